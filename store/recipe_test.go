package store

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"grace/engine"
)

// auditRecipe returns the bash script of AUDIT.md.
func auditRecipe(t *testing.T) string {
	t.Helper()
	md := string(fileBytes(t, "AUDIT.md"))
	_, rest, ok := strings.Cut(md, "```bash\n")
	script, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("AUDIT.md has no ```bash block")
	}
	return script
}

// TestAuditRecipeInDocComment keeps the package comment's copy of the
// recipe identical to AUDIT.md's.
func TestAuditRecipeInDocComment(t *testing.T) {
	t.Parallel()
	doc := string(fileBytes(t, "doc.go"))
	// The script is the indented comment block that starts "set -euo".
	var comment strings.Builder
	in := false
	for _, line := range strings.Split(doc, "\n") {
		rest, ok := strings.CutPrefix(line, "//\t")
		in = ok && (in || strings.HasPrefix(rest, "set -euo pipefail"))
		if in {
			comment.WriteString(rest + "\n")
		}
	}
	if got, want := comment.String(), auditRecipe(t); got != want {
		t.Errorf("doc.go's recipe differs from AUDIT.md's:\n%s\nwant\n%s", got, want)
	}
}

// TestAuditRecipe runs AUDIT.md's recipe with the real sqlite3 and
// sha256sum against a database the store wrote, then tampers with it
// through the sqlite3 tool and runs it again.
func TestAuditRecipe(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "sqlite3", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	script := filepath.Join(t.TempDir(), "verify.sh")
	if err := os.WriteFile(script, []byte(auditRecipe(t)), 0o700); err != nil {
		t.Fatal(err)
	}
	run := func(tb *testBundle) (string, error) {
		out, err := exec.Command("bash", script, tb.path).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	sqlite3 := func(t *testing.T, tb *testBundle, sql string) {
		t.Helper()
		if out, err := exec.Command("sqlite3", tb.path, sql).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3 %q: %v\n%s", sql, err, out)
		}
	}
	// Awkward text: separators, quotes, backslashes, newlines, non-ASCII.
	written := func(t *testing.T) *testBundle {
		t.Helper()
		tb := setup(t)
		r := rec("agent|7", `say "hi" \ bye`, "line one\nline two", "naïve café ✓", "a|b|c")
		r.Context = map[string]any{"path": `C:\temp`, "tab": "\t"}
		if err := tb.s.Record(context.Background(), r, rec("x", "y")); err != nil {
			t.Fatal(err)
		}
		writeRecords(t, tb.s, 5, "alice")
		if err := tb.s.Close(); err != nil {
			t.Fatal(err)
		}
		return tb
	}

	t.Run("untouched", func(t *testing.T) {
		tb := written(t)
		out, err := run(tb)
		if err != nil {
			t.Fatalf("recipe failed on an untouched chain: %v\n%s", err, out)
		}
		if !strings.Contains(out, "chain intact: 7 entries") || !strings.Contains(out, "newest checkpoint (entry 7) matches") {
			t.Errorf("unexpected output:\n%s", out)
		}
	})
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"edited entry", `UPDATE audit SET entry = replace(entry, 'alice', 'mallory') WHERE seq = 4`, "entry 4: hash does not match its text"},
		{"deleted middle entry", `DELETE FROM audit WHERE seq = 3`, "entry 3 is missing"},
		{"deleted newest entries", `DELETE FROM audit WHERE seq >= 6`, "entries 6 to 7 are missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := written(t)
			sqlite3(t, tb, tc.sql)
			out, err := run(tb)
			if err == nil {
				t.Fatalf("recipe passed a tampered chain:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("output %q does not say %q", out, tc.want)
			}
			checkStore(t, tb)
		})
	}
	// Pruned: the recipe starts from the anchor, and refuses an anchor
	// that no records_pruned entry names.
	pruned := func(t *testing.T) *testBundle {
		t.Helper()
		tb := setup(t)
		ctx := context.Background()
		writeRecords(t, tb.s, 6, "old")
		if err := tb.s.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		tb.clock.Advance(48 * time.Hour)
		writeRecords(t, tb.s, 3, "new")
		if _, err := tb.s.PruneRecords(ctx, engine.PruneRequest{Before: tb.clock.Now().Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		writeRecords(t, tb.s, 2, "after")
		if err := tb.s.Close(); err != nil {
			t.Fatal(err)
		}
		return tb
	}
	t.Run("pruned", func(t *testing.T) {
		tb := pruned(t)
		out, err := run(tb)
		if err != nil {
			t.Fatalf("recipe failed on a pruned chain: %v\n%s", err, out)
		}
		for _, want := range []string{"chain intact: 6 entries", "entries 1 to 6 were pruned", "newest checkpoint (entry 12) matches"} {
			if !strings.Contains(out, want) {
				t.Errorf("output %q does not say %q", out, want)
			}
		}
	})
	t.Run("forged anchor", func(t *testing.T) {
		tb := pruned(t)
		sqlite3(t, tb, `DELETE FROM clarity WHERE narrative_id <= 8; DELETE FROM narratives WHERE id <= 8;
			DELETE FROM audit WHERE seq <= 8;
			UPDATE audit_anchor SET seq = 8, narrative_id = 8, hash = (SELECT prev_hash FROM audit WHERE seq = 9)`)
		out, err := run(tb)
		if err == nil || !strings.Contains(out, "the chain starts after entry 8, but no records_pruned entry names that anchor") {
			t.Errorf("recipe: %v\n%s", err, out)
		}
		checkStore(t, tb)
	})
	t.Run("forged checkpoint signature", func(t *testing.T) {
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("openssl not installed")
		}
		tb := written(t)
		path := filepath.Join(tb.dir, checkpointFile)
		f := strings.Fields(string(fileBytes(t, path)))
		flip := "A"
		if f[3][0] == 'A' {
			flip = "B"
		}
		f[3] = flip + f[3][1:]
		if err := os.WriteFile(path, []byte(strings.Join(f, " ")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := run(tb)
		if err == nil || !strings.Contains(out, "checkpoint of entry 7: bad signature") {
			t.Errorf("recipe: %v\n%s", err, out)
		}
		checkStore(t, tb)
	})
}

// checkStore expects VerifyAudit to fail as the recipe did.
func checkStore(t *testing.T, tb *testBundle) {
	t.Helper()
	s, err := Open(context.Background(), tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.VerifyAudit(context.Background()); err != nil || rep.OK {
		t.Errorf("VerifyAudit passed what the recipe caught: %+v, %v", rep, err)
	}
}
