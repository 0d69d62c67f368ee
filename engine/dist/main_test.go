package dist_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine the dispatcher, the workers and the embedded servers
// start has ended once each test's cleanups have run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
