package chaos_test

import (
	"context"
	"strings"
	"testing"

	"grace/engine/chaos"
)

// A scenario file may leave its deadline out (10s by default), and the
// runner's deadline replaces the scenario's: the faults that wait for the
// other type's intents to finish (runaway_handler, pause_type) waited on
// the file's field instead, which is 0 when left out, so
// L2_runaway_handler written without a deadline failed at once ("300 of
// the 300 query_knowledge intents did not finish") however well the
// safeguard worked.
func TestFaultsWaitOnTheRunsDeadlineNotTheFilesField(t *testing.T) {
	t.Parallel()
	body := libraryFile(t, "L2_runaway_handler", "id: L2_runaway_handler", "id: QA_runaway", "deadline: 8s\n", "",
		"flowing: {base: 300, growth: 1.5, max: 3000}", "flowing: {base: 100}")
	sc, err := chaos.Parse("QA_runaway.yaml", body)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Deadline != 0 {
		t.Fatalf("deadline %v; want the file's deadline left out", sc.Deadline)
	}
	b := setup(t)
	res, err := b.runner.Run(context.Background(), sc, 1)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !res.Passed {
		t.Fatalf("a runaway scenario without a deadline of its own failed: %v", res.Failures)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "all 100 query_knowledge intents finished on the freed workers") {
		t.Errorf("the runaways' abandonment was not seen: %v", res.Notes)
	}
}
