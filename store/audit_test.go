package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chainBundle is a closed store holding ten records, one per change, with
// the final checkpoint Close wrote at entry 10.
func chainBundle(t *testing.T) *testBundle {
	t.Helper()
	tb := setup(t)
	writeRecords(t, tb.s, 10, "alice")
	if err := tb.s.Close(); err != nil {
		t.Fatal(err)
	}
	return tb
}

// verify opens the database read-only and verifies it.
func (tb *testBundle) verify(t *testing.T) VerifyReport {
	t.Helper()
	s, err := Open(context.Background(), tb.path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return rep
}

func TestVerifyAuditUntouched(t *testing.T) {
	t.Parallel()
	tb := chainBundle(t)
	rep := tb.verify(t)
	if !rep.OK || rep.Entries != 10 || rep.HeadSeq != 10 || rep.Checkpoints != 1 || rep.Problem != "" || rep.FirstBroken != 0 {
		t.Fatalf("untouched chain: %+v", rep)
	}
	db := tb.rawDB(t)
	var head string
	if err := db.QueryRow("SELECT hash FROM audit WHERE seq = 10").Scan(&head); err != nil || head != rep.HeadHash {
		t.Errorf("HeadHash %q, the table says %q (%v)", rep.HeadHash, head, err)
	}
}

// TestVerifyAuditCatchesTampering tampers with a closed database through a
// plain SQL connection, as someone with the sqlite3 tool would, and checks
// that verification fails and names the entry.
func TestVerifyAuditCatchesTampering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		tamper  func(t *testing.T, tb *testBundle, db *sql.DB)
		broken  int64
		problem string
	}{
		{"edit an entry's text", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `UPDATE audit SET entry = replace(entry, '"result":"step3"', '"result":"forged"') WHERE seq = 4`)
		}, 4, "audit entry 4: its hash does not match its text"},
		{"edit an entry and rehash it", func(t *testing.T, _ *testBundle, db *sql.DB) {
			rewriteEntry(t, db, 4, func(e *auditEntry) { e.Result = "forged" })
			rehash(t, db, 4, 4)
		}, 4, `audit entry 4: narrative 4's result is "step3" but the entry recorded "forged"`},
		{"rehash an entry", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, "UPDATE audit SET hash = ? WHERE seq = 7", strings.Repeat("ab", 32))
		}, 7, "audit entry 7: its hash does not match its text"},
		{"break a prev_hash", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, "UPDATE audit SET prev_hash = ? WHERE seq = 7", strings.Repeat("ab", 32))
		}, 7, "audit entry 7: its prev_hash is not the hash of entry 6"},
		{"edit a narrative's who", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `UPDATE narratives SET who = 'mallory' WHERE id = 6`)
		}, 6, `audit entry 6: narrative 6's who is "mallory" but the entry recorded "alice"`},
		{"edit a narrative's why", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `UPDATE narratives SET why = '["nothing to see"]' WHERE id = 6`)
		}, 6, "audit entry 6: narrative 6 or its clarity row was changed"},
		{"edit a clarity row", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `UPDATE clarity SET risk = 0 WHERE narrative_id = 5`)
		}, 5, "audit entry 5: narrative 5 or its clarity row was changed"},
		{"delete a clarity row", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `DELETE FROM clarity WHERE narrative_id = 3`)
		}, 3, "audit entry 3: the clarity row of narrative 3 is missing"},
		{"delete a middle entry", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `DELETE FROM audit WHERE seq = 5`)
		}, 5, "audit entry 5 is missing"},
		{"delete a middle record entirely", func(t *testing.T, _ *testBundle, db *sql.DB) {
			deleteRecords(t, db, 5, 5)
		}, 5, "audit entry 5 is missing"},
		{"delete the oldest records", func(t *testing.T, _ *testBundle, db *sql.DB) {
			deleteRecords(t, db, 1, 3)
		}, 1, "audit entries 1 to 3 are missing: the chain starts at entry 4 and no audit anchor says they were pruned"},
		{"delete the newest entries", func(t *testing.T, _ *testBundle, db *sql.DB) {
			deleteRecords(t, db, 9, 10)
		}, 9, "audit entries 9 to 10 are missing: checkpoint on line 1 of audit.checkpoints signed entry 10"},
		{"delete only the newest audit rows", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `DELETE FROM audit WHERE seq > 8`)
		}, 9, "narrative 9 has no audit entry: entry 9 is missing after the newest entry, 8"},
		{"rewrite the chain from an entry on", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `UPDATE narratives SET who = 'mallory' WHERE id = 4`)
			rewriteEntry(t, db, 4, func(e *auditEntry) { e.Actor = "mallory" })
			redigest(t, db, 4)
			rehash(t, db, 4, 10)
		}, 10, "audit entry 10 has hash"},
		{"add a narrative without an entry", func(t *testing.T, _ *testBundle, db *sql.DB) {
			mustExec(t, db, `INSERT INTO narratives(id, ts, who, what, "where", why, how, context, intent_id, result)
				VALUES (11, 0, 'mallory', 'approved', '', '[]', '', '{}', '', '')`)
		}, 11, "narrative 11 has no audit entry: entry 11 is missing after the newest entry, 10"},
		{"forge a checkpoint signature", func(t *testing.T, tb *testBundle, _ *sql.DB) {
			path := filepath.Join(tb.dir, checkpointFile)
			line := strings.Fields(string(fileBytes(t, path)))
			line[0] = "9" // the same signature over a different seq
			if err := os.WriteFile(path, []byte(strings.Join(line, " ")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, 9, "checkpoint on line 1 of audit.checkpoints (entry 9) has an invalid signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := chainBundle(t)
			db := tb.rawDB(t)
			tc.tamper(t, tb, db)
			db.Close()
			rep := tb.verify(t)
			if rep.OK {
				t.Fatalf("tampering went unnoticed: %+v", rep)
			}
			if rep.FirstBroken != tc.broken || !strings.Contains(rep.Problem, tc.problem) {
				t.Errorf("got FirstBroken %d, Problem %q\nwant %d, containing %q", rep.FirstBroken, rep.Problem, tc.broken, tc.problem)
			}
			if strings.Contains(rep.Problem, "\n") {
				t.Errorf("Problem is not one sentence on one line: %q", rep.Problem)
			}
		})
	}
}

// TestVerifyAuditWhileWriting verifies a store that keeps writing.
func TestVerifyAuditWhileWriting(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			if err := tb.s.Record(ctx, rec("w", "tick")); err != nil {
				t.Error(err)
				return
			}
			if i%50 == 0 {
				if err := tb.s.Checkpoint(ctx); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	for range 5 {
		rep, err := tb.s.VerifyAudit(ctx)
		if err != nil || !rep.OK {
			t.Fatalf("VerifyAudit during writes: %+v, %v", rep, err)
		}
	}
	<-done
}

func deleteRecords(t *testing.T, db *sql.DB, from, to int) {
	t.Helper()
	mustExec(t, db, `DELETE FROM clarity WHERE narrative_id BETWEEN ? AND ?`, from, to)
	mustExec(t, db, `DELETE FROM narratives WHERE id BETWEEN ? AND ?`, from, to)
	mustExec(t, db, `DELETE FROM audit WHERE seq BETWEEN ? AND ?`, from, to)
}

// rewriteEntry edits entry seq's text through its JSON, the way a careful
// forger would.
func rewriteEntry(t *testing.T, db *sql.DB, seq int64, edit func(*auditEntry)) {
	t.Helper()
	e := readEntry(t, db, seq)
	edit(&e)
	writeEntry(t, db, seq, e)
}

func readEntry(t *testing.T, db *sql.DB, seq int64) auditEntry {
	t.Helper()
	var text string
	if err := db.QueryRow("SELECT entry FROM audit WHERE seq = ?", seq).Scan(&text); err != nil {
		t.Fatal(err)
	}
	var e auditEntry
	if err := json.Unmarshal([]byte(text), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func writeEntry(t *testing.T, db *sql.DB, seq int64, e auditEntry) {
	t.Helper()
	text, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "UPDATE audit SET entry = ? WHERE seq = ?", string(text), seq)
}

// redigest recomputes entry seq's digest from its (edited) rows.
func redigest(t *testing.T, db *sql.DB, seq int64) {
	t.Helper()
	e := readEntry(t, db, seq)
	var n narrative
	err := db.QueryRow(`SELECT n.ts, n.who, n.what, n."where", n.why, n.how, n.context, n.intent_id, n.result,
		c.confidence, c.risk, c.transparency, c.reasoning FROM narratives n JOIN clarity c ON c.narrative_id = n.id
		WHERE n.id = ?`, e.NarrativeID).Scan(&n.TS, &n.Who, &n.What, &n.Where, &n.Why, &n.How, &n.Context,
		&n.IntentID, &n.Result, &n.Confidence, &n.Risk, &n.Transparency, &n.Reasoning)
	if err != nil {
		t.Fatal(err)
	}
	e.Digest, _ = n.digest(nil)
	writeEntry(t, db, seq, e)
}

// rehash recomputes prev_hash and hash of entries from..to.
func rehash(t *testing.T, db *sql.DB, from, to int64) {
	t.Helper()
	var prev string
	if err := db.QueryRow("SELECT hash FROM audit WHERE seq = ?", from-1).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	for seq := from; seq <= to; seq++ {
		var entry string
		if err := db.QueryRow("SELECT entry FROM audit WHERE seq = ?", seq).Scan(&entry); err != nil {
			t.Fatal(err)
		}
		h := chainHash(prev, []byte(entry))
		mustExec(t, db, "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", prev, h, seq)
		prev = h
	}
}
