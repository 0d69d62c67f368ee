package tui

import (
	"strings"
	"testing"
)

// TestIntentCommandTakesOneID: ":cancel A B why", as the CLI takes many
// IDs, is refused naming B, and nothing is cancelled or retried: it
// cancelled A with the reason "B why" and left B running.
func TestIntentCommandTakesOneID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	openNarratives(t, b)
	const running, other = "int_01JPB8A4RUNNING000000000DD", "int_01JPB8A1REVIEW0000000000AA"
	for _, verb := range []string{"cancel", "retry"} {
		b.run(t, b.command(t, verb+" "+running+" "+strings.ToLower(other)+" wrong plan"))
		if st := b.statusText(); !strings.HasPrefix(st, ":"+verb+" takes one intent ID, then the reason: "+strings.ToLower(other)) {
			t.Errorf(":%s with two IDs: status %q", verb, st)
		}
	}
	b.api.mu.Lock()
	defer b.api.mu.Unlock()
	if len(b.api.cancels) != 0 || len(b.api.retries) != 0 {
		t.Fatalf("cancels %v, retries %v", b.api.cancels, b.api.retries)
	}
}
