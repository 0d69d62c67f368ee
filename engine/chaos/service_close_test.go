package chaos_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/chaos"
	"grace/store"
)

// gatedStore holds the first SaveChaosRun (a run being started) until
// release is closed, telling saving when it is there.
type gatedStore struct {
	*store.Store
	once    sync.Once
	saving  chan struct{}
	release chan struct{}
}

func (g *gatedStore) SaveChaosRun(ctx context.Context, run engine.ChaosRun) error {
	g.once.Do(func() {
		close(g.saving)
		<-g.release
	})
	return g.Store.SaveChaosRun(ctx, run)
}

// Close while a run is being started (its first save in progress) waits
// for that run: when Close returns, the run is over and stored in a final
// state, and no goroutine of the service is left using the store.
func TestServiceCloseWaitsForARunBeingStarted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, filepath.Join(dir, "grace.db"))
	g := &gatedStore{Store: st, saving: make(chan struct{}), release: make(chan struct{})}
	lib, err := chaos.LoadLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := chaos.NewService(chaos.ServiceOptions{Runner: &chaos.Runner{Config: engine.Default(), Open: openTarget, Deadline: 10 * time.Second},
		Library: lib, Store: g, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	type started struct {
		run engine.ChaosRun
		err error
	}
	start := make(chan started, 1)
	go func() {
		run, err := svc.StartChaos(context.Background(), engine.ChaosRequest{Scenarios: []string{cascade}})
		start <- started{run, err}
	}()
	<-g.saving
	closed := make(chan struct{})
	go func() {
		svc.Close()
		close(closed)
	}()
	// Give Close the time to reach its wait (it returned at once before
	// the fix, while the run's goroutine was not yet counted).
	select {
	case <-closed:
	case <-time.After(200 * time.Millisecond):
	}
	close(g.release)
	s := <-start
	if s.err != nil {
		t.Fatal(s.err)
	}
	<-closed
	got, err := st.ChaosRun(context.Background(), s.run.RunID)
	if err != nil || got.State == engine.ChaosRunning {
		t.Fatalf("run after Close returned: %+v, %v; want it over and stored", got, err)
	}
}
