package main

import (
	"strings"
	"testing"
)

// TestConsolePopupsConfigReachesTheConsole loads console.popups from a
// config file, the environment and --set, and checks the console's options
// (the same embedded and attached) start popups as it says.
func TestConsolePopupsConfigReachesTheConsole(t *testing.T) {
	cases := []struct {
		name    string
		file    string
		env     string
		sets    []string
		wantOff bool
	}{
		{name: "default", file: "db: x.db\n", wantOff: false},
		{name: "file false", file: "console:\n  popups: false\n", wantOff: true},
		{name: "file true", file: "console:\n  popups: true\n", wantOff: false},
		{name: "env false", file: "db: x.db\n", env: "false", wantOff: true},
		{name: "set false", file: "db: x.db\n", sets: []string{"console.popups=false"}, wantOff: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv("GRACE_CONSOLE_POPUPS", c.env)
			}
			cfg, err := loadConfig(configInput{File: writeConfig(t, c.file), Sets: c.sets})
			if err != nil {
				t.Fatal(err)
			}
			if got := consoleOptions(cfg, "ops", false, nil).PopupsOff; got != c.wantOff {
				t.Errorf("PopupsOff %v, want %v", got, c.wantOff)
			}
		})
	}
	// A value that is not a boolean is refused, naming the key.
	_, err := loadConfig(configInput{File: writeConfig(t, "console:\n  popups: sometimes\n")})
	if err == nil || !strings.Contains(err.Error(), "console.popups") {
		t.Errorf("popups: sometimes gave %v, want an error naming console.popups", err)
	}
}
