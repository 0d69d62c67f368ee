package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestASecondWriterIsRefused: while one process (here, one open) holds a
// database read-write, another read-write open is refused at once with
// who holds it, a read-only open still reads, and the database opens
// again once the holder closes. A brief holder (a CLI write) is waited
// for instead of refused.
func TestASecondWriterIsRefused(t *testing.T) {
	tb := setup(t, func(o *Options) { o.Holder = "grace serve, API http://127.0.0.1:7420" })
	_, err := Open(context.Background(), tb.path, Options{Clock: tb.clock, Holder: "grace intent submit", Brief: true})
	var inUse *InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, ErrInUse) || inUse.PID != os.Getpid() ||
		!strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())+", grace serve, API http://127.0.0.1:7420") {
		t.Fatalf("a second writer: %v, want ErrInUse naming the holder", err)
	}
	ro, err := Open(context.Background(), tb.path, Options{Clock: tb.clock, ReadOnly: true})
	if err != nil {
		t.Fatalf("a reader beside the writer: %v", err)
	}
	ro.Close()
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}

	brief, err := Open(context.Background(), tb.path, Options{Clock: tb.clock, Holder: "grace intent submit", Brief: true})
	if err != nil {
		t.Fatalf("after the holder closed: %v", err)
	}
	opened := make(chan error, 1)
	go func() {
		s, err := Open(context.Background(), tb.path, Options{Clock: tb.clock, Holder: "grace serve"})
		if err == nil {
			err = s.Close()
		}
		opened <- err
	}()
	if err := brief.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatalf("an engine starting while a command wrote: %v, want it to wait for the command", err)
	}
}

// An open waiting for a brief holder gives up when its context ends (a
// signal to the process starting), saying what it waited for, rather
// than waiting LockWait out.
func TestWaitingForABriefHolderEndsWithItsContext(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.Holder = "grace intent submit"; o.Brief = true })
	// The context ends while the open waits (well after it read the
	// file), long before LockWait would.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := Open(ctx, tb.path, Options{Clock: tb.clock, Holder: "grace serve", LockWait: 30 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "grace intent submit") {
		t.Fatalf("open whose context ended while it waited for a brief holder: %v; want the context's end, naming the holder", err)
	}
}

// Brief holders taking turns never refuse one another: a waiter that reads
// the lock file while its holder is writing or clearing its note (an empty
// file) waits on, as for a brief holder, instead of taking the silence for
// a running engine. (Some of 20 concurrent CLI writes failed with "a
// running engine has the database".)
func TestBriefHoldersTakingTurnsNeverRefuseEachOther(t *testing.T) {
	t.Parallel()
	abs := filepath.Join(t.TempDir(), "grace.db")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := takeLock(context.Background(), abs, fmt.Sprintf("grace intent submit #%d", i), true, time.Minute)
			if err != nil {
				errs <- err
				return
			}
			errs <- release()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a brief holder was refused: %v", err)
		}
	}
}
