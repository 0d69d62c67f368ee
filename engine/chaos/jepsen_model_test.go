package chaos

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"

	"grace/engine/intent"
)

// op makes one operation on intent key "a" (a crash when kind is opCrash).
func op(kind opKind, res outcome, st intent.State, call, ret int64) porcupine.Operation {
	key := "a"
	if kind == opCrash {
		key = ""
	}
	return porcupine.Operation{Input: jInput{Kind: kind, Key: key}, Output: jOutput{Result: res, State: st}, Call: call, Return: ret}
}

func tier0(o porcupine.Operation) porcupine.Operation {
	in := o.Input.(jInput)
	in.Tier0 = true
	o.Input = in
	return o
}

func TestQueueModelAcceptsGoodHistoriesAndRefusesBadOnes(t *testing.T) {
	t.Parallel()
	submitted := op(opSubmit, outOK, intent.StateQueued, 0, 10)
	pending := tier0(op(opSubmit, outOK, intent.StatePendingApproval, 0, 10))
	final := op(opFinal, outOK, intent.StateCompleted, 900, 910)
	cases := []struct {
		name    string
		ops     []porcupine.Operation
		ok      bool
		culprit string // what the explanation must name
	}{
		{"submit, dispatch, complete", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opComplete, outOK, "", 40, 50), final}, true, ""},
		{"dispatch overlapping its submission", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 5, 40), op(opComplete, outOK, "", 45, 50), final}, true, ""},
		{"duplicate completion", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opComplete, outOK, "", 40, 50), op(opComplete, outOK, "", 60, 70), final},
			false, "complete"},
		{"two executions open at once", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opDispatch, outOK, "", 40, 50), op(opComplete, outOK, "", 60, 70), final},
			false, "dispatch"},
		{"tier 0 dispatched before its approval", []porcupine.Operation{pending,
			op(opDispatch, outOK, "", 20, 25), op(opApprove, outOK, "", 30, 40), op(opComplete, outOK, "", 50, 60), final},
			false, "dispatch"},
		{"tier 0 dispatched after its approval", []porcupine.Operation{pending,
			op(opApprove, outOK, "", 20, 30), op(opDispatch, outOK, "", 25, 45), op(opComplete, outOK, "", 50, 60), final},
			true, ""},
		{"tier 0 acknowledged as queued", []porcupine.Operation{tier0(op(opSubmit, outOK, intent.StateQueued, 0, 10))},
			false, "submit"},
		{"acknowledged but never seen", []porcupine.Operation{submitted,
			op(opFinal, outRefused, "", 20, 30)}, false, "final read"},
		{"acknowledged but never completed", []porcupine.Operation{submitted,
			op(opFinal, outOK, intent.StateQueued, 20, 30)}, false, "final read"},
		{"refused but stored", []porcupine.Operation{op(opSubmit, outRefused, "", 0, 10),
			op(opFinal, outOK, intent.StateQueued, 20, 30)}, false, "final read"},
		{"refused and not stored", []porcupine.Operation{op(opSubmit, outRefused, "", 0, 10),
			op(opFinal, outRefused, "", 20, 30)}, true, ""},
		{"unknown outcome, stored and run", []porcupine.Operation{op(opSubmit, outUnknown, "", 0, 10),
			op(opDispatch, outOK, "", 20, 30), op(opComplete, outOK, "", 40, 50), final}, true, ""},
		{"read after acknowledgement finds nothing", []porcupine.Operation{submitted,
			op(opRead, outRefused, "", 11, 12)}, false, "read"},
		{"read lagging behind steps not waited for", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opComplete, outOK, "", 30, 40), op(opRead, outOK, intent.StateQueued, 50, 60),
			op(opRead, outOK, intent.StateRunning, 61, 62), final}, true, ""},
		{"read behind an acknowledged decision", []porcupine.Operation{pending,
			op(opApprove, outOK, "", 20, 30), op(opRead, outOK, intent.StatePendingApproval, 40, 45)}, false, "read"},
		{"re-run after a crash, requeued on the record", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opCrash, outOK, "", 40, 50), op(opRequeue, outOK, "", 55, 60),
			op(opDispatch, outOK, "", 60, 70), op(opComplete, outOK, "", 80, 90), final}, true, ""},
		{"re-run after a crash without the requeue record", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opCrash, outOK, "", 40, 50),
			op(opDispatch, outOK, "", 60, 70), op(opComplete, outOK, "", 80, 90), final}, false, "dispatch"},
		{"requeued before the crash point", []porcupine.Operation{submitted,
			op(opDispatch, outOK, "", 20, 30), op(opRequeue, outOK, "", 32, 35), op(opCrash, outOK, "", 40, 50),
			op(opDispatch, outOK, "", 60, 70), op(opComplete, outOK, "", 80, 90), final}, false, "requeue"},
		{"two approvals win a race", []porcupine.Operation{pending,
			op(opApprove, outOK, "", 20, 30), op(opApprove, outOK, "", 20, 30)}, false, "approve"},
		{"one approval wins, the other is refused", []porcupine.Operation{pending,
			op(opApprove, outOK, "", 20, 30), op(opApprove, outRefused, "", 20, 30), op(opDeny, outRefused, "", 20, 30),
			op(opDispatch, outOK, "", 40, 50), op(opComplete, outOK, "", 60, 70), final}, true, ""},
		{"denied intent runs", []porcupine.Operation{pending,
			op(opDeny, outOK, "", 20, 30), op(opDispatch, outOK, "", 40, 50)}, false, "dispatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, info := porcupine.CheckOperationsVerbose(queueModel, tc.ops, 0)
			if got := res == porcupine.Ok; got != tc.ok {
				t.Fatalf("porcupine says %s, want ok=%v", res, tc.ok)
			}
			if tc.ok {
				return
			}
			why := explainIllegal(tc.ops, info.PartialLinearizationsOperations()[0], 0)
			if !strings.HasPrefix(why, tc.culprit) {
				t.Errorf("explanation %q does not start with the culprit %q", why, tc.culprit)
			}
		})
	}
}

func TestPartitionByIntentCopiesCrashesIntoEveryIntent(t *testing.T) {
	t.Parallel()
	a := op(opSubmit, outOK, intent.StateQueued, 0, 10)
	b := a
	b.Input = jInput{Kind: opSubmit, Key: "b"}
	crash := op(opCrash, outOK, "", 20, 30)
	parts := partitionByIntent([]porcupine.Operation{b, crash, a})
	if len(parts) != 2 {
		t.Fatalf("%d partitions, want 2", len(parts))
	}
	for i, want := range []string{"a", "b"} {
		p := parts[i]
		if len(p) != 2 || p[0].Input.(jInput).Key != want || p[1].Input.(jInput).Kind != opCrash {
			t.Errorf("partition %d = %+v, want intent %s and the crash", i, p, want)
		}
	}
}
