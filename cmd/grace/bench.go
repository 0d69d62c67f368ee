package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// runBench runs "grace bench". A placeholder: the lead replaces this file.
func runBench(_ *cobra.Command, _ []string) error {
	return errors.New("bench: not built yet")
}
