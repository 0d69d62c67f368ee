package engine_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/watchdog"
	"grace/store"
)

// retentionBundle is an engine with retention on, over a real store whose
// clock is the engine's fake one.
type retentionBundle struct {
	st    *store.Store
	clock *clock.Fake
	logs  *enginetest.Buffer
	cfg   engine.Config
}

func setupRetention(t *testing.T, archiveDir string) *retentionBundle {
	t.Helper()
	rb := &retentionBundle{clock: clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), logs: &enginetest.Buffer{}}
	rb.cfg = engine.Default()
	rb.cfg.DB = filepath.Join(t.TempDir(), "grace.db")
	rb.cfg.Cortex.Enabled = false
	rb.cfg.Retention = engine.RetentionConfig{Records: 24 * time.Hour, Interval: time.Hour, ArchiveDir: archiveDir}
	st, err := store.Open(t.Context(), rb.cfg.DB, store.Options{Clock: rb.clock})
	if err != nil {
		t.Fatal(err)
	}
	rb.st = st
	t.Cleanup(func() { _ = st.Close() })
	for range 20 {
		if err := st.Record(t.Context(), clarity.Record{Who: "old", What: "did", Where: "test", Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	return rb
}

// start runs the engine until the test ends.
func (rb *retentionBundle) start(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(rb.cfg, engine.Deps{Store: rb.st, Clock: rb.clock,
		Logger: slog.New(slog.NewTextHandler(rb.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}

// retentionFinding advances the clock by step, unless that would take it
// to *budget or past it (then it stays: the test waits for a verdict on
// what has happened, not on rounds to come), and returns the watchdog's
// latest verdict on the retention component ("" when it has none yet).
// Polled in a loop, it steps the watchdog's checks along; the budget keeps
// the next prune round from coming before the verdict is seen.
func (rb *retentionBundle) retentionFinding(e *engine.Engine, step time.Duration, budget *time.Duration) (watchdog.Status, string) {
	if step < *budget {
		rb.clock.Advance(step)
		*budget -= step
	}
	for _, c := range e.Health().Components {
		if c.Name == engine.ComponentRetention {
			return c.Status, c.Reason
		}
	}
	return -1, ""
}

func TestRetentionPrunesOnTheEnginesClockAndArchives(t *testing.T) {
	t.Parallel()
	rb := setupRetention(t, "archive")
	e := rb.start(t)
	if !strings.Contains(rb.logs.String(), "retention.archive_dir="+filepath.Join(filepath.Dir(rb.cfg.DB), "archive")) {
		t.Errorf("start-up log does not name the archive folder:\n%s", rb.logs.String())
	}
	// The watchdog's readiness record, written at start, is on the record
	// first, so that one prune takes it with the others (written after the
	// prune, it was pruned by a second round, into an archive of its own).
	engine.Eventually(t, "the layer2_ready record", func() bool {
		got, err := rb.st.Search(context.Background(), clarity.Query{Action: "layer2_ready"})
		return err == nil && len(got) == 1
	})
	// Nothing is older than a day yet; two days on, the next tick prunes.
	rb.clock.Advance(48 * time.Hour)
	engine.Eventually(t, "a prune", func() bool {
		seq, _, err := rb.st.Anchor(context.Background())
		return err == nil && seq >= 20
	})
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(rb.cfg.DB), "archive", "grace-audit-1-*.jsonl.gz"))
	if len(files) != 1 {
		t.Fatalf("archives %v", files)
	}
	if rep, err := rb.st.VerifyAudit(context.Background()); err != nil || !rep.OK {
		t.Fatalf("VerifyAudit: %+v, %v", rep, err)
	}
	if rep, err := rb.st.VerifyArchives(context.Background(), files); err != nil || !rep.OK {
		t.Fatalf("VerifyArchives: %+v, %v", rep, err)
	}
	got, err := rb.st.Search(context.Background(), clarity.Query{Action: "records_pruned"})
	if err != nil || len(got) != 1 || got[0].Who != "retention" {
		t.Fatalf("records_pruned record: %+v, %v", got, err)
	}
	// The watchdog watches it: ok, saying how far the record was pruned
	// (before a day more passes and the prune's own record is pruned).
	budget := rb.cfg.Retention.Records
	engine.Eventually(t, "the retention component's ok finding", func() bool {
		status, reason := rb.retentionFinding(e, rb.cfg.Watchdog.Interval, &budget)
		return status == watchdog.OK && strings.Contains(reason, "the chain now starts after entry") &&
			strings.Contains(reason, "newest archive grace-audit-1-")
	})
}

func TestRetentionWithoutArchiveSaysSoAndUnwritableArchiveKeepsAll(t *testing.T) {
	t.Parallel()
	t.Run("no archive", func(t *testing.T) {
		t.Parallel()
		rb := setupRetention(t, "")
		rb.start(t)
		if !strings.Contains(rb.logs.String(), "WITHOUT an archive") {
			t.Errorf("start-up log does not warn:\n%s", rb.logs.String())
		}
	})
	t.Run("a file at start", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "archive")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		rb := setupRetention(t, file)
		e, err := engine.New(rb.cfg, engine.Deps{Store: rb.st, Clock: rb.clock})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Start(context.Background())
		if err == nil {
			e.Stop()
			t.Fatal("the engine started with retention.archive_dir a file")
		}
		if want := "retention.archive_dir (" + file + ") is a file"; !strings.Contains(err.Error(), want) {
			t.Errorf("Start = %v, want it to say %q", err, want)
		}
	})
	t.Run("made at start", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "a", "archive")
		rb := setupRetention(t, dir)
		rb.start(t)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() || info.Mode().Perm() != 0o700 {
			t.Errorf("archive folder at start: %v, %v; want a folder, mode 0700", info, err)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "archive")
		rb := setupRetention(t, dir)
		e := rb.start(t)
		// The folder is taken away and a file put in its place after the
		// start: every prune fails.
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		rb.clock.Advance(48 * time.Hour)
		engine.Eventually(t, "the failure's log line", func() bool {
			return strings.Contains(rb.logs.String(), "retention: prune failed")
		})
		// A failing prune keeps every record, so the disk grows: the
		// watchdog warns, then, failing on, calls it critical.
		// (Before the next round fails too: the clock stays short of it.)
		budget := rb.cfg.Retention.Interval
		engine.Eventually(t, "a retention warning naming the folder", func() bool {
			status, reason := rb.retentionFinding(e, rb.cfg.Watchdog.Interval, &budget)
			return status == watchdog.Warn && strings.Contains(reason, "archive folder "+dir)
		})
		budget = time.Duration(1 << 62)
		engine.Eventually(t, "a critical retention finding", func() bool {
			status, reason := rb.retentionFinding(e, rb.cfg.Retention.Interval, &budget)
			return status == watchdog.Critical && strings.Contains(reason, "prunes failed") && strings.Contains(reason, "disk keeps growing")
		})
		if logs := rb.logs.String(); !strings.Contains(logs, "archive folder "+dir) {
			t.Errorf("the log does not name the folder:\n%s", logs)
		}
		if seq, _, err := rb.st.Anchor(context.Background()); err != nil || seq != 0 {
			t.Errorf("anchor %d, %v: something was pruned", seq, err)
		}
	})
}

func TestRetentionConfigIsValidated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		set  func(*engine.RetentionConfig)
		want string
	}{
		{func(r *engine.RetentionConfig) { r.Records = -time.Hour }, "retention.records (-1h0m0s) must be 0 (keep forever) or at least 1h0m0s"},
		{func(r *engine.RetentionConfig) { r.Records = time.Minute }, "retention.records (1m0s)"},
		{func(r *engine.RetentionConfig) { r.Interval = 0 }, "retention.interval (0s) must be positive"},
		{func(r *engine.RetentionConfig) { r.Interval = time.Millisecond }, "retention.interval (1ms) must be at least"},
	} {
		cfg := engine.Default()
		tc.set(&cfg.Retention)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v, want %q", err, tc.want)
		}
	}
	if cfg := engine.Default(); cfg.Retention.Records != 0 {
		t.Errorf("records are pruned by default (%v)", cfg.Retention.Records)
	}
}
