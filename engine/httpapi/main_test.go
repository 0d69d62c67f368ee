package httpapi

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind (a server
// or connection not shut down).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
