package engine_test

import (
	"context"
	"errors"
	"fmt"

	"grace/engine"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
)

// An operator pauses the scheduler: work is accepted but waits, and the
// snapshot says who paused it and why, until the resume.
func ExampleEngine_PauseScheduler() {
	st := enginetest.NewStore(16)
	defer st.Close()
	cfg := engine.Default()
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	e, err := engine.New(cfg, engine.Deps{Store: st})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer e.Stop()

	_ = e.PauseScheduler(ctx, "alice", "upgrading the sandbox")
	res, _ := e.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "agent.docs"})
	s := e.Snapshot().Layer2
	fmt.Println(res.Intent.State, s.Paused, s.Pause.By, s.Pause.Reason)

	err = e.PauseScheduler(ctx, "bob", "me too")
	fmt.Println(errors.Is(err, engine.ErrAlreadyPaused))
	fmt.Println(e.ResumeScheduler(ctx, "alice", "sandbox is back"), e.Snapshot().Layer2.Paused)
	// Output:
	// queued true alice upgrading the sandbox
	// true
	// <nil> false
}

// The chaos runner kills a worker through the engine's fault hooks; the
// supervisor notices at once, and worker_reassignment refills the pool.
func ExampleEngine_KillWorker() {
	st := enginetest.NewStore(16)
	defer st.Close()
	cfg := engine.Default()
	cfg.Workers.Count = 2
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	e, err := engine.New(cfg, engine.Deps{Store: st})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := e.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer e.Stop()

	var faults engine.Faults = e
	fmt.Println(faults.KillWorker(ctx, "worker_1", "L2_worker_dropout_chaos"))
	fmt.Println(errors.Is(faults.KillWorker(ctx, "worker_9", ""), engine.ErrUnknownWorker))
	// Output:
	// <nil>
	// true
}
