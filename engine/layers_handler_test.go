package engine

import (
	"testing"

	"grace/engine/intent"
	"grace/engine/kernel"
)

// TestMayNameRecovery checks the pre-filter in front of the recovery
// playbooks: it may only say no to payloads that kernel.HandlesRecovery
// refuses too, whatever the spelling of the keys (letter case, escapes,
// the Unicode letters encoding/json folds onto ASCII ones), and it does say
// no to an ordinary payload.
func TestMayNameRecovery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		payload string
		may     bool // what mayNameRecovery must answer
	}{
		{`{"q":"status of kernel 7"}`, false},
		{`{}`, false},
		{``, false},
		{`{"playbook":"restart"}`, false},
		{`{"kernel":"k07"}`, false},
		{`{"playbook":"restart","kernel":"k07"}`, true},
		{`{"PlayBook":"restart","KERNEL":"k07"}`, true},
		{`{"\u0070laybook":"restart","kernel":"k07"}`, true},         // an escaped key
		{"{\"playboo\u212a\":\"restart\",\"kernel\":\"k07\"}", true}, // KELVIN SIGN folds to k
		{`{"note":"playbook and kernel, in prose"}`, true},           // a maybe: HandlesRecovery decides
		{`{"playbook":"","kernel":"k07"}`, true},
	}
	for _, c := range cases {
		got := mayNameRecovery([]byte(c.payload))
		if got != c.may {
			t.Errorf("mayNameRecovery(%s) = %v, want %v", c.payload, got, c.may)
		}
		if !got && kernel.HandlesRecovery(intent.Intent{Payload: []byte(c.payload)}) {
			t.Errorf("mayNameRecovery(%s) = false, but HandlesRecovery takes it: the playbook would be skipped", c.payload)
		}
	}
	// The spellings encoding/json accepts really are recovery payloads, so
	// the cases above test what they claim to.
	for _, p := range []string{`{"PlayBook":"restart","KERNEL":"k07"}`, `{"\u0070laybook":"restart","kernel":"k07"}`,
		"{\"playboo\u212a\":\"restart\",\"kernel\":\"k07\"}"} {
		if !kernel.HandlesRecovery(intent.Intent{Payload: []byte(p)}) {
			t.Errorf("HandlesRecovery(%s) = false; the case proves nothing", p)
		}
	}
}
