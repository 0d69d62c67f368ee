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

// TestOpenRefusesAnotherAuditKey swaps audit.key for another data
// folder's: opened as it is, the store signed checkpoints that audit.pub
// does not verify, and "audit verify" then blamed the chain's newest entry
// ("checkpoint ... has an invalid signature"). The open is refused,
// naming both files, and nothing is signed.
func TestOpenRefusesAnotherAuditKey(t *testing.T) {
	t.Parallel()
	tb := chainBundle(t)
	other := setup(t)
	if err := other.s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tb.dir, keyFile), fileBytes(t, filepath.Join(other.dir, keyFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	before := fileBytes(t, filepath.Join(tb.dir, checkpointFile))
	s, err := Open(context.Background(), tb.path, tb.opts)
	if err == nil {
		writeRecords(t, s, 1, "bob")
		s.Close()
		t.Fatalf("opened with another folder's audit key; verify now says %+v", tb.verify(t))
	}
	for _, want := range []string{filepath.Join(tb.dir, keyFile), filepath.Join(tb.dir, pubFile), "would not verify"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if after := fileBytes(t, filepath.Join(tb.dir, checkpointFile)); string(after) != string(before) {
		t.Errorf("a refused open changed %s", checkpointFile)
	}
	if rep := tb.verify(t); !rep.OK {
		t.Errorf("the chain no longer verifies: %+v", rep)
	}
}

// A checkpoint every 5 s over 10 days thins to the newest ones, one an
// hour for the week before the newest and one a day before that, in order.
func TestThinCheckpoints(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var cps []checkpoint
	for i := range 10 * 24 * 720 {
		cps = append(cps, checkpoint{Seq: int64(i + 1), Time: start.Add(time.Duration(i) * 5 * time.Second).Format(time.RFC3339Nano)})
	}
	const keepAll = 1000
	got := thinCheckpoints(cps, keepAll)
	if tail := got[len(got)-keepAll:]; tail[0].Seq != cps[len(cps)-keepAll].Seq || tail[keepAll-1].Seq != cps[len(cps)-1].Seq {
		t.Fatalf("the newest %d are not all kept", keepAll)
	}
	newest := start.Add(time.Duration(len(cps)-1) * 5 * time.Second)
	hours, days := map[time.Time]int{}, map[time.Time]int{}
	for i, cp := range got[:len(got)-keepAll] {
		if i > 0 && cp.Seq <= got[i-1].Seq {
			t.Fatalf("out of order at %d: %d after %d", i, cp.Seq, got[i-1].Seq)
		}
		ts, _ := time.Parse(time.RFC3339Nano, cp.Time)
		if newest.Sub(ts) > 7*24*time.Hour {
			days[ts.Truncate(24*time.Hour)]++
		} else {
			hours[ts.Truncate(time.Hour)]++
		}
	}
	for slot, n := range hours {
		if n != 1 {
			t.Errorf("%d checkpoints kept in the hour %s, want 1", n, slot)
		}
	}
	for slot, n := range days {
		if n != 1 {
			t.Errorf("%d checkpoints kept on the day %s, want 1", n, slot)
		}
	}
	// 10 days: 3 of them (and the newest's partial day) a day apiece, the
	// week before the newest hour by hour.
	if len(days) < 3 || len(days) > 4 || len(hours) < 7*24-1 || len(hours) > 7*24+1 {
		t.Fatalf("%d days and %d hours kept from the older checkpoints", len(days), len(hours))
	}
	if short := cps[:10]; len(thinCheckpoints(short, keepAll)) != 10 {
		t.Fatal("fewer checkpoints than keepAll were thinned")
	}
}

// The checkpoint file stays bounded: past its size limit it is thinned in
// place, its newest checkpoint kept, and the chain still verifies against
// it.
func TestCheckpointFileIsThinnedPastItsLimit(t *testing.T) {
	t.Parallel()
	tb := setup(t, func(o *Options) { o.CheckpointInterval = time.Minute })
	ctx := context.Background()
	path := filepath.Join(tb.dir, checkpointFile)
	_ = tb.s.do(ctx, func(w *writer) error {
		w.cp.compactAt, w.cp.keepAll = 4000, 10
		return nil
	})
	for i := range 60 {
		writeRecords(t, tb.s, 1, "alice")
		tb.clock.Advance(5 * time.Minute) // 12 an hour: thinning keeps one an hour of the older ones
		if err := tb.s.Checkpoint(ctx); err != nil {
			t.Fatalf("checkpoint %d: %v", i, err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := readCheckpoints(tb.dir)
	if err != nil {
		t.Fatal(err)
	}
	// ~190 bytes a line: 60 lines would be ~11,000 bytes.
	if st.Size() > 4000+200 || len(cps) >= 60 {
		t.Fatalf("checkpoint file of %d bytes, %d lines after 60 checkpoints, want it thinned below ~4000 bytes", st.Size(), len(cps))
	}
	if last := cps[len(cps)-1]; last.Seq != 60 {
		t.Fatalf("the newest checkpoint is of entry %d, want 60", last.Seq)
	}
	if rep, err := tb.s.VerifyAudit(ctx); err != nil || !rep.OK || rep.Checkpoints != len(cps) {
		t.Fatalf("VerifyAudit after thinning: %+v, %v", rep, err)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Fatal("the thinning's temporary file was left behind")
	}
}
