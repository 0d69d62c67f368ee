package chaos

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"

	"grace/engine/intent"
)

// opKind names one operation of a Jepsen history.
type opKind uint8

// The operations. Client operations are timed by the runner's clients
// (call and return); record operations are the engine's own steps read
// back from the record, timed from their record's When to the next record
// of the same intent; a crash is timed by the runner that caused it.
const (
	opSubmit   opKind = iota // client: Submit (Tier0 set for a Tier 0 type)
	opApprove                // client: Approve
	opDeny                   // client: Deny
	opRead                   // client: read the intent back (Output.State)
	opFinal                  // client: the last read, once the history is over
	opDispatch               // record: intent_dispatched
	opComplete               // record: intent_completed
	opFail                   // record: intent_failed
	opRetry                  // record: intent_retry_scheduled
	opReroute                // record: intent_rerouted
	opRequeue                // record: intent_requeued_after_restart
	opBlock                  // record: governance_violation_blocked
	opCrash                  // runner: the engine stopped hard and restarted
)

var opNames = [...]string{"submit", "approve", "deny", "read", "final read", "dispatch", "complete", "fail",
	"retry", "reroute", "requeue after restart", "block unapproved", "crash and restart"}

func (k opKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", k)
}

// jInput is an operation's input. Key is the submission's idempotency key,
// which names the intent whether or not its ID came back; a crash has no
// key and belongs to every intent's partition.
type jInput struct {
	Kind  opKind
	Key   string
	Tier0 bool
	// Note says where the operation came from (client, worker, attempt).
	Note string
}

// outcome is how an operation ended.
type outcome uint8

const (
	// outOK: acknowledged, the decision won, or the intent was found.
	outOK outcome = iota
	// outRefused: definitely not done: a submission refused (nothing was
	// stored), a decision that lost (ErrNotPending), an intent not found.
	outRefused
	// outUnknown: it may or may not have taken effect.
	outUnknown
)

// jOutput is an operation's output. State is the intent's state as the
// operation saw it (the acknowledged state of a submission, the state a
// read found).
type jOutput struct {
	Result outcome
	State  intent.State
}

// stage is where one intent stands in the model.
type stage uint8

const (
	stNone      stage = iota // nothing accepted
	stPending                // waits for a human decision
	stQueued                 // may be dispatched
	stOpen                   // an execution is in progress
	stCut                    // an execution cut off by a crash; recovery must requeue it on the record
	stCompleted              // terminal
	stFailed                 // terminal
	stDenied                 // terminal
)

// jState is the model's state of one intent. Lag holds the stages (one
// bit each) the store may still show: the engine writes its own steps
// (dispatch, completion, retry) without waiting for their commit, so a
// read may find any stage passed since the last change that was waited
// for (a submission, a decision, a restart: the writer commits in order,
// so each of those makes every earlier change durable).
type jState struct {
	Stage    stage
	Tier0    bool
	Approved bool
	Lag      uint16
}

// durable returns s with only its current stage visible to reads.
func (s jState) durable() jState {
	s.Lag = 1 << s.Stage
	return s
}

// async returns s moved to stage st by a change not waited for.
func (s jState) async(st stage) jState {
	s.Stage = st
	s.Lag |= 1 << st
	return s
}

// mayShow reports whether a read may find the intent in state st (""
// for not found).
func (s jState) mayShow(st intent.State) bool {
	for g := stNone; g <= stDenied; g++ {
		if s.Lag&(1<<g) != 0 && (jState{Stage: g}).stored() == st {
			return true
		}
	}
	return false
}

// stored is the state the store shows for a stage.
func (s jState) stored() intent.State {
	switch s.Stage {
	case stPending:
		return intent.StatePendingApproval
	case stQueued:
		return intent.StateQueued
	case stOpen, stCut:
		return intent.StateRunning
	case stCompleted:
		return intent.StateCompleted
	case stFailed:
		return intent.StateFailed
	case stDenied:
		return intent.StateDenied
	}
	return ""
}

func (s jState) String() string {
	st := string(s.stored())
	if s.Stage == stNone {
		st = "not accepted"
	}
	if s.Stage == stCut {
		st = "running, cut off by a crash"
	}
	if s.Tier0 {
		st += " (tier 0"
		if s.Approved {
			st += ", approved"
		}
		st += ")"
	}
	return st
}

// jStep is the model: the intent queue as one intent sees it. An
// acknowledged submission is accepted (a Tier 0 one pending a human); a
// decision wins only on a pending intent, and at most one does; an
// intent is dispatched only once queued, and for Tier 0 only once
// approved; at most one execution is open at a time and it closes once
// (completed, failed, retried, rerouted); a crash cuts the open execution
// off, and it may run again only after an intent_requeued_after_restart
// record; a read shows the model's state or one it passed since the last
// change waited for (jState.Lag), and the final read finds every accepted
// intent completed or denied. It returns the possible next states (none:
// the operation cannot happen here).
func jStep(s jState, in jInput, out jOutput) []jState {
	one := func(n jState) []jState { return []jState{n} }
	switch in.Kind {
	case opSubmit:
		if s.Stage != stNone {
			// A retried submission under the same key returns the
			// original or is refused: either way it changes nothing.
			return one(s)
		}
		accepted := jState{Stage: stQueued, Tier0: in.Tier0}
		if in.Tier0 {
			accepted.Stage = stPending
		}
		switch out.Result {
		case outRefused:
			return one(s)
		case outUnknown:
			return []jState{s, accepted.durable()}
		}
		switch out.State {
		case intent.StatePendingApproval:
			accepted.Stage = stPending
		case intent.StateQueued:
			if in.Tier0 {
				return nil // a Tier 0 intent must wait for a human
			}
		case intent.StateDenied:
			accepted.Stage = stDenied
		default:
			return nil
		}
		return one(accepted.durable())
	case opApprove, opDeny:
		switch out.Result {
		case outRefused:
			if s.Stage == stPending {
				return nil // a pending intent cannot refuse its decision
			}
			return one(s)
		case outUnknown:
			if s.Stage != stPending {
				return one(s)
			}
		}
		if s.Stage != stPending {
			return nil
		}
		n := s
		if in.Kind == opApprove {
			n.Stage, n.Approved = stQueued, true
		} else {
			n.Stage = stDenied
		}
		n = n.durable()
		if out.Result == outUnknown {
			return []jState{s, n}
		}
		return one(n)
	case opRead:
		st := out.State
		if out.Result == outRefused { // not found
			st = ""
		}
		if !s.mayShow(st) {
			return nil
		}
		return one(s)
	case opFinal:
		// Once the engine is idle every change is durable: the final read
		// shows the current stage, and it must be settled.
		if out.Result == outRefused {
			if s.Stage == stNone {
				return one(s)
			}
			return nil
		}
		if s.Stage == stNone || out.State != s.stored() {
			return nil
		}
		if s.Stage != stCompleted && s.Stage != stDenied {
			return nil // accepted, and not settled by the end
		}
		return one(s)
	case opDispatch:
		if s.Stage != stQueued || (s.Tier0 && !s.Approved) {
			return nil
		}
		return one(s.async(stOpen))
	case opComplete, opFail, opRetry, opReroute:
		if s.Stage != stOpen {
			return nil
		}
		return one(s.async(map[opKind]stage{opComplete: stCompleted, opFail: stFailed, opRetry: stQueued, opReroute: stQueued}[in.Kind]))
	case opRequeue: // written before the restarted engine goes on
		if s.Stage != stCut {
			return nil
		}
		s.Stage = stQueued
		return one(s.durable())
	case opBlock:
		if s.Stage != stQueued || !s.Tier0 || s.Approved {
			return nil
		}
		return one(s.async(stPending))
	case opCrash:
		// The restart reopens the store: everything written is durable.
		if s.Stage == stOpen {
			s.Stage = stCut
		}
		return one(s.durable())
	}
	return nil
}

// partitionByIntent gives each intent (idempotency key) its own partition,
// with a copy of every crash in each: the per-intent properties hold or
// fail one intent at a time, so each partition is checked on its own.
// Partitions are sorted by key.
func partitionByIntent(history []porcupine.Operation) [][]porcupine.Operation {
	by := map[string][]porcupine.Operation{}
	var crashes []porcupine.Operation
	for _, op := range history {
		in := op.Input.(jInput)
		if in.Kind == opCrash {
			crashes = append(crashes, op)
			continue
		}
		by[in.Key] = append(by[in.Key], op)
	}
	keys := sortedKeys(by)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, append(by[k], crashes...))
	}
	return out
}

// queueModel is the porcupine model of the queue (jStep), partitioned
// per intent.
var queueModel = (&porcupine.NondeterministicModel{
	Partition: partitionByIntent,
	Init:      func() []any { return []any{jState{}.durable()} },
	Step: func(state, input, output any) []any {
		next := jStep(state.(jState), input.(jInput), output.(jOutput))
		out := make([]any, len(next))
		for i, n := range next {
			out[i] = n
		}
		return out
	},
	Equal:             func(a, b any) bool { return a.(jState) == b.(jState) },
	DescribeOperation: func(input, output any) string { return describeOp(input.(jInput), output.(jOutput)) },
	DescribeState:     func(state any) string { return state.(jState).String() },
}).ToModel()

// describeOp says what an operation was and what came of it.
func describeOp(in jInput, out jOutput) string {
	s := in.Kind.String()
	if in.Kind == opSubmit && in.Tier0 {
		s += " (tier 0)"
	}
	if in.Note != "" {
		s += " [" + in.Note + "]"
	}
	switch out.Result {
	case outOK:
		if out.State != "" {
			s += " → " + string(out.State)
		}
	case outRefused:
		if in.Kind == opRead || in.Kind == opFinal {
			s += " → not found"
		} else {
			s += " → refused"
		}
	case outUnknown:
		s += " → unknown outcome"
	}
	return s
}

// explainIllegal names, for one partition that porcupine refused, the
// operation that broke the model: the earliest operation (by call time)
// outside the longest linearizable prefix porcupine found, with the
// state the prefix left the intent in.
func explainIllegal(ops []porcupine.Operation, partials [][]porcupine.Operation, t0 int64) string {
	var longest []porcupine.Operation
	for _, p := range partials {
		if len(p) > len(longest) {
			longest = p
		}
	}
	states := []jState{jState{}.durable()}
	for _, op := range longest {
		var next []jState
		for _, s := range states {
			next = append(next, jStep(s, op.Input.(jInput), op.Output.(jOutput))...)
		}
		states = next
	}
	// Operations are told apart by value; equal ones count as a multiset.
	placed := map[porcupine.Operation]int{}
	for _, op := range longest {
		placed[op]++
	}
	var rest []porcupine.Operation
	for _, op := range ops {
		if placed[op] > 0 {
			placed[op]--
			continue
		}
		rest = append(rest, op)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Call < rest[j].Call })
	if len(rest) == 0 {
		return "no operation could be placed"
	}
	op := rest[0]
	state := "no state"
	if len(states) > 0 {
		state = states[0].String()
	}
	in, out := op.Input.(jInput), op.Output.(jOutput)
	if in.Kind == opFinal && out.Result == outOK && len(states) > 0 && states[0].stored() == out.State {
		return fmt.Sprintf("%s at +%dms: acknowledged, and still %s at the end: never completed",
			describeOp(in, out), (op.Call-t0)/1e6, state)
	}
	return fmt.Sprintf("%s at +%dms cannot follow the intent's state %q (after %d operations)",
		describeOp(op.Input.(jInput), op.Output.(jOutput)), (op.Call-t0)/1e6, state, len(longest))
}
