package store

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuditKeyFiles(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	st, err := os.Stat(filepath.Join(tb.dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s mode = %o, want 600", keyFile, perm)
	}
	key, err := readPrivateKey(filepath.Join(tb.dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	pub, found, err := loadPublicKey(tb.dir)
	if err != nil || !found || !pub.Equal(key.Public()) {
		t.Fatalf("%s does not hold the key's public half: %v", pubFile, err)
	}
	// Reopening keeps the key.
	tb.reopen(t)
	again, err := readPrivateKey(filepath.Join(tb.dir, keyFile))
	if err != nil || !again.Equal(key) {
		t.Errorf("the key changed on reopen: %v", err)
	}
}

// TestCheckpointEveryInterval drives the writer's checkpoint schedule with
// the fake clock: a checkpoint when the head moved, none when it did not.
func TestCheckpointEveryInterval(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.CheckpointInterval = time.Minute })
	ctx := context.Background()
	lines := func() []string {
		raw, err := os.ReadFile(filepath.Join(tb.dir, checkpointFile))
		if err != nil {
			return nil
		}
		return strings.Split(strings.TrimSpace(string(raw)), "\n")
	}
	// tick advances the clock one interval and waits until the writer
	// has handled the tick.
	ticks := 0
	tick := func() {
		ticks++
		tb.clock.Advance(time.Minute)
		eventually(t, "the writer to take the tick", func() bool {
			var n int
			_ = tb.s.do(ctx, func(w *writer) error { n = w.cpTicks; return nil })
			return n == ticks
		})
	}
	writeRecords(t, tb.s, 3, "alice")
	tick()
	if l := lines(); len(l) != 1 || !strings.HasPrefix(l[0], "3 ") {
		t.Fatalf("after the first interval: %q, want one checkpoint of entry 3", l)
	}
	tick()
	if l := lines(); len(l) != 1 {
		t.Errorf("a checkpoint was written although the head did not move: %q", l)
	}
	writeRecords(t, tb.s, 2, "bob")
	tick()
	if l := lines(); len(l) != 2 || !strings.HasPrefix(l[1], "5 ") {
		t.Fatalf("after the third interval: %q, want a second checkpoint, of entry 5", l)
	}
	pub, _, err := loadPublicKey(tb.dir)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := readCheckpoints(tb.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		if !ed25519.Verify(pub, []byte(cp.Msg), cp.Sig) {
			t.Errorf("checkpoint on line %d has a bad signature", cp.Line)
		}
	}
	if rep, err := tb.s.VerifyAudit(ctx); err != nil || !rep.OK || rep.Checkpoints != 2 {
		t.Errorf("VerifyAudit: %+v, %v", rep, err)
	}
}

func TestCheckpointFileDamage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		append  string
		ok      bool
		problem string
	}{
		{"torn last line is a crash, ignored", "11 abc", true, ""},
		{"malformed line", "11 abc 2026 sig\n", false, "line 2: bad hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := chainBundle(t)
			f, err := os.OpenFile(filepath.Join(tb.dir, checkpointFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(tc.append)
			f.Close()
			rep := tb.verify(t)
			if rep.OK != tc.ok || !strings.Contains(rep.Problem, tc.problem) {
				t.Errorf("got %+v; want OK %v, problem containing %q", rep, tc.ok, tc.problem)
			}
		})
	}
}

func TestCheckpointsWithoutKey(t *testing.T) {
	t.Parallel()
	tb := chainBundle(t)
	for _, f := range []string{keyFile, pubFile} {
		if err := os.Remove(filepath.Join(tb.dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	rep := tb.verify(t)
	if rep.OK || !strings.Contains(rep.Problem, "no audit.pub or audit.key") {
		t.Errorf("verification without a key: %+v", rep)
	}
}
