package chaos

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// InvariantLinearizable: the Jepsen history is linearizable against the
// queue model (jStep). Only Jepsen scenarios record a history.
const InvariantLinearizable = "linearizable"

// checkTimeout bounds porcupine's search; a history it cannot settle in
// time is reported as not proven.
const checkTimeout = 30 * time.Second

// errDown: the engine under test was down (crashed, restarting) when a
// client called it; the call never reached it and is not in the history.
var errDown = errors.New("engine down")

// node is the engine under test as the Jepsen clients reach it: a crash
// takes it down, waits for the calls already made to return, and brings
// up the restarted engine.
type node struct {
	mu       sync.RWMutex
	eng      *engine.Engine
	down     bool
	inflight sync.WaitGroup
}

// acquire returns the engine for one call, and the func that ends the
// call; errDown while the engine is down.
func (n *node) acquire() (*engine.Engine, func(), error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.down {
		return nil, nil, errDown
	}
	n.inflight.Add(1)
	return n.eng, n.inflight.Done, nil
}

// takeDown refuses new calls and returns the engine they were reaching.
func (n *node) takeDown() *engine.Engine {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = true
	return n.eng
}

// bringUp lets calls reach eng.
func (n *node) bringUp(eng *engine.Engine) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.eng, n.down = eng, false
}

// jepsenRun is a Jepsen scenario's history as it is recorded: the
// clients' operations with their call and return times, the crashes, and
// the intents the history covers. The engine's own steps (dispatch,
// completion, requeue) are read from the record when the run is checked.
type jepsenRun struct {
	node *node
	mu   sync.Mutex
	t0   int64
	ops  []porcupine.Operation
	// keys maps each intent ID the history covers to its submission's
	// idempotency key; noID holds the keys whose ID is not known (refused
	// submissions, and those of unknown outcome); acked are the IDs
	// acknowledged; clients counts porcupine client numbers; down counts
	// calls that found the engine down.
	keys    map[string]string
	noID    map[string]string // key → the actor that used it
	acked   []string
	clients int
	down    int // calls that found the engine down
}

func newJepsenRun(eng *engine.Engine) *jepsenRun {
	return &jepsenRun{node: &node{eng: eng}, t0: now(), keys: map[string]string{}, noID: map[string]string{}}
}

// now is the history's clock: wall time in nanoseconds, the same clock
// the engine stamps its records with.
func now() int64 { return time.Now().UnixNano() }

// client returns a new client number (porcupine's ClientId).
func (j *jepsenRun) client() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.clients++
	return j.clients - 1
}

func (j *jepsenRun) add(client int, in jInput, out jOutput, call, ret int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ops = append(j.ops, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: call, Return: ret})
}

// submit submits under key as client and records the operation; it
// returns the acknowledged intent, or Submit's error (errDown when the
// call did not reach the engine: it is not in the history).
func (j *jepsenRun) submit(ctx context.Context, client int, key, typ, actor string, tier0 bool) (intent.Intent, error) {
	eng, done, err := j.node.acquire()
	if err != nil {
		j.countDown()
		return intent.Intent{}, err
	}
	defer done()
	call := now()
	res, err := eng.Submit(ctx, intent.Submission{Type: typ, Actor: actor, Priority: 5, IdempotencyKey: key,
		Payload: fmt.Appendf(nil, `{"jepsen":%q}`, key)})
	ret := now()
	out := jOutput{Result: outOK, State: res.Intent.State}
	var verr *engine.ValidationError
	switch {
	case err == nil:
	case errors.Is(err, engine.ErrRateLimited), errors.Is(err, engine.ErrQueueFull), errors.As(err, &verr):
		out = jOutput{Result: outRefused}
	default:
		out = jOutput{Result: outUnknown}
	}
	j.add(client, jInput{Kind: opSubmit, Key: key, Tier0: tier0, Note: actor}, out, call, ret)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		if _, known := j.keyOf(key); !known {
			j.noID[key] = actor
		}
		return intent.Intent{}, err
	}
	if !res.Existing {
		j.acked = append(j.acked, res.Intent.ID)
	}
	j.keys[res.Intent.ID] = key
	delete(j.noID, key)
	return res.Intent, nil
}

// keyOf returns the ID acknowledged under key; j.mu is held.
func (j *jepsenRun) keyOf(key string) (string, bool) {
	for id, k := range j.keys {
		if k == key {
			return id, true
		}
	}
	return "", false
}

// decide approves or denies id as operator and records the operation. It
// returns the decision's error (errDown when the call did not reach the
// engine: it is not in the history).
func (j *jepsenRun) decide(ctx context.Context, client int, key, id, operator string, approve bool) error {
	eng, done, err := j.node.acquire()
	if err != nil {
		j.countDown()
		return err
	}
	defer done()
	kind := opDeny
	call := now()
	if approve {
		kind = opApprove
		_, err = eng.Approve(ctx, id, operator, "jepsen: approved")
	} else {
		_, err = eng.Deny(ctx, id, operator, "jepsen: denied")
	}
	ret := now()
	out := jOutput{Result: outOK}
	switch {
	case err == nil:
	case errors.Is(err, engine.ErrNotPending):
		out.Result = outRefused
	default:
		out.Result = outUnknown
	}
	j.add(client, jInput{Kind: kind, Key: key, Note: operator}, out, call, ret)
	return err
}

// read reads id back as client (a final read when final) and records it.
func (j *jepsenRun) read(ctx context.Context, client int, key, id string, final bool) {
	eng, done, err := j.node.acquire()
	if err != nil {
		j.countDown()
		return
	}
	defer done()
	kind := opRead
	if final {
		kind = opFinal
	}
	call := now()
	in, err := eng.Get(ctx, id)
	ret := now()
	out := jOutput{Result: outOK, State: in.State}
	switch {
	case errors.Is(err, intent.ErrNotFound):
		out = jOutput{Result: outRefused}
	case err != nil:
		return // a read that failed says nothing
	}
	j.add(client, jInput{Kind: kind, Key: key}, out, call, ret)
}

// finalReads reads every submission back once the history is over: the
// acknowledged ones by ID, the others by their idempotency key (found,
// they join the history under it).
func (j *jepsenRun) finalReads(ctx context.Context) error {
	eng, done, err := j.node.acquire()
	if err != nil {
		return fmt.Errorf("final reads: %w", err)
	}
	defer done()
	client := j.client()
	for _, key := range sortedKeys(j.noID) {
		call := now()
		list, err := eng.List(ctx, intent.Filter{Actor: j.noID[key], IdempotencyKey: key, Limit: 1})
		ret := now()
		if err != nil {
			return fmt.Errorf("final read of submission %s: %w", key, err)
		}
		out := jOutput{Result: outRefused}
		if len(list) > 0 {
			out = jOutput{Result: outOK, State: list[0].State}
			j.keys[list[0].ID] = key
		}
		j.add(client, jInput{Kind: opFinal, Key: key}, out, call, ret)
	}
	for _, id := range sortedKeys(j.keys) {
		if _, unknown := j.noID[j.keys[id]]; unknown {
			continue // read by key above
		}
		j.read(ctx, client, j.keys[id], id, true)
	}
	return nil
}

func (j *jepsenRun) countDown() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.down++
}

// crash records the engine's crash and restart as one operation.
func (j *jepsenRun) crash(call, ret int64, note string) {
	j.add(j.client(), jInput{Kind: opCrash, Note: note}, jOutput{}, call, ret)
}

// recordOps maps the records that show the engine's steps to the
// operations they are.
var recordOps = map[string]opKind{
	engine.WhatDispatched:         opDispatch,
	engine.WhatCompleted:          opComplete,
	engine.WhatFailed:             opFail,
	engine.WhatRetryScheduled:     opRetry,
	engine.WhatRerouted:           opReroute,
	engine.WhatRequeuedAfterStart: opRequeue,
	engine.WhatGovernanceBlocked:  opBlock,
}

// engineOps reads the engine's steps on the history's intents from the
// record. Each lasts from its record's When until the next record of the
// same intent (the last one until end): the step happened at or after its
// record was stamped, and before the intent's next step was.
func (r *run) engineOps(ctx context.Context, j *jepsenRun, end int64) ([]porcupine.Operation, error) {
	type step struct {
		id   int64
		kind opKind
		when int64
		note string
	}
	by := map[string][]step{}
	for _, what := range sortedKeys(recordOps) {
		err := r.eachRecord(ctx, clarity.Query{Action: what}, func(e clarity.Entry) bool {
			if key, ok := j.keys[e.IntentID]; ok {
				by[key] = append(by[key], step{id: e.ID, kind: recordOps[what], when: e.When.UnixNano(), note: e.Where})
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	client := j.client()
	var ops []porcupine.Operation
	for _, key := range sortedKeys(by) {
		steps := by[key]
		sort.Slice(steps, func(a, b int) bool { return steps[a].id < steps[b].id })
		for i, s := range steps {
			ret := end
			if i+1 < len(steps) {
				ret = max(s.when, steps[i+1].when)
			}
			ops = append(ops, porcupine.Operation{ClientId: client, Input: jInput{Kind: s.kind, Key: key, Note: s.note},
				Output: jOutput{Result: outOK}, Call: s.when, Return: max(ret, s.when)})
		}
	}
	return ops, nil
}

// checkJepsen checks the history with porcupine against the queue model,
// partitioned per intent. It names the operation that broke the model for
// up to three refused intents as failures and writes porcupine's
// visualization next to the run's database. The verdict is nil when the
// check could not finish.
func (r *run) checkJepsen(ctx context.Context) (*bool, error) {
	j := r.jepsen
	ops := append([]porcupine.Operation(nil), j.ops...)
	end := j.t0
	for _, op := range ops {
		end = max(end, op.Return)
	}
	eops, err := r.engineOps(ctx, j, end+1)
	if err != nil {
		return nil, err
	}
	ops = append(ops, eops...)
	r.notef("jepsen: %d operations on %d intents (%d client, %d from the record), %d calls found the engine down",
		len(ops), len(j.keys)+len(j.noID), len(j.ops), len(eops), j.down)
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(queueModel, ops, checkTimeout)
	r.notef("jepsen: porcupine says %s in %v", res, time.Since(start).Round(time.Millisecond))
	ok := res == porcupine.Ok
	switch res {
	case porcupine.Unknown:
		r.failf("invariant %s: porcupine did not finish within %v: not proven", InvariantLinearizable, checkTimeout)
		return nil, nil
	case porcupine.Illegal:
		r.explainJepsen(ops)
	}
	return &ok, nil
}

// explainJepsen names the refused intents and the operations that broke
// the model, and writes the visualization.
func (r *run) explainJepsen(ops []porcupine.Operation) {
	j := r.jepsen
	_, info := porcupine.CheckOperationsVerbose(queueModel, ops, checkTimeout)
	parts := partitionByIntent(ops)
	partials := info.PartialLinearizationsOperations()
	idOf := map[string]string{}
	for id, key := range j.keys {
		idOf[key] = id
	}
	single := queueModel
	single.Partition = nil
	bad := 0
	for i, p := range parts {
		if porcupine.CheckOperations(single, p) {
			continue
		}
		bad++
		if bad > 3 {
			continue
		}
		key := p[0].Input.(jInput).Key
		var pl [][]porcupine.Operation
		if i < len(partials) {
			pl = partials[i]
		}
		r.failf("invariant %s: intent %s (submission %s): %s", InvariantLinearizable, orDefault(idOf[key], "without an ID"), key,
			explainIllegal(p, pl, j.t0))
	}
	if bad > 3 {
		r.failf("invariant %s: %d intents in all break the model", InvariantLinearizable, bad)
	}
	if r.live || r.cfg.DB == "" {
		return
	}
	path := filepath.Join(filepath.Dir(r.cfg.DB), "jepsen-"+r.sc.ID+".html")
	if err := porcupine.VisualizePath(queueModel, info, path); err != nil {
		r.notef("jepsen: write the visualization: %v", err)
		return
	}
	r.notef("jepsen: visualization in %s", path)
}
