package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"grace/store"
)

// auditCommand is "grace audit verify".
func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the tamper-evident audit chain",
		RunE:  groupRun,
	}
	verify := &cobra.Command{
		Use:   "verify [--archive FILE...]",
		Short: "Recompute the audit chain; exit 1 naming the first broken entry",
		Long: `Recompute the audit chain from its anchor (where pruning left it, or entry 1)
and check every signed checkpoint; exit 1 naming the first broken entry.

With --archive, the arguments are archive files written by retention
(grace-audit-<a>-<b>.jsonl.gz): each hash and digest is recomputed, the
files must chain together and their last entry must be the database's
anchor; exit 1 naming the file and the entry at fault.`,
		Args: func(cmd *cobra.Command, args []string) error {
			archives, _ := cmd.Flags().GetBool("archive")
			switch {
			case archives && len(args) == 0:
				return usageErrorf("audit verify --archive needs the archive files, oldest first: grace audit verify --archive grace-data/audit-archive/*.jsonl.gz (see \"%s --help\")", cmd.CommandPath())
			case !archives && len(args) > 0:
				return usageErrorf("audit verify takes no arguments, got %s: to verify archive files, add --archive (see \"%s --help\")", quoteClip(strings.Join(args, " "), 80), cmd.CommandPath())
			}
			return nil
		},
		RunE: a.runAuditVerify,
	}
	verify.Flags().Bool("archive", false, "the arguments are archive files to verify against the database's anchor")
	a.addJSONFlag(verify)
	cmd.AddCommand(verify)
	return cmd
}

// auditReport is audit verify's JSON document.
type auditReport struct {
	OK          bool   `json:"ok"`
	Entries     int64  `json:"entries"`
	HeadSeq     int64  `json:"head_seq"`
	HeadHash    string `json:"head_hash"`
	FirstBroken int64  `json:"first_broken,omitempty"`
	Problem     string `json:"problem,omitempty"`
	// AnchorSeq is the last pruned entry: the chain starts after it.
	AnchorSeq int64 `json:"anchor_seq,omitempty"`
	// Archives is the archive files' check (--archive).
	Archives *store.ArchiveReport `json:"archives,omitempty"`
}

func (a *app) runAuditVerify(cmd *cobra.Command, files []string) error {
	// An archive named wrong is said before the chain is verified (a
	// million entries take seconds), not after "audit chain intact".
	for _, f := range files {
		if st, err := os.Stat(f); err != nil {
			return usageErrorf("audit verify: --archive %q: %v", f, unwrapPath(err))
		} else if st.IsDir() {
			return usageErrorf("audit verify: --archive %q is a folder; name the archive files in it (grace-audit-*.jsonl.gz)", f)
		}
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	st, err := openStore(cmd.Context(), cfg, true, newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.VerifyAudit(cmd.Context())
	if err != nil {
		return fmt.Errorf("verify audit chain: %w", err)
	}
	out := auditReport{OK: rep.OK, Entries: rep.Entries, HeadSeq: rep.HeadSeq, HeadHash: rep.HeadHash,
		FirstBroken: rep.FirstBroken, Problem: rep.Problem}
	if out.AnchorSeq, _, err = st.Anchor(cmd.Context()); err != nil {
		return fmt.Errorf("verify audit chain: %w", err)
	}
	if len(files) > 0 {
		ar, err := st.VerifyArchives(cmd.Context(), files)
		if err != nil {
			return fmt.Errorf("verify archives: %w", err)
		}
		out.Archives = &ar
		out.OK = out.OK && ar.OK
	}
	if a.json {
		if err := a.writeJSON(out); err != nil {
			return err
		}
	} else {
		a.printAuditReport(out)
	}
	switch {
	case !rep.OK:
		return errors.New(auditBroken(rep.FirstBroken, rep.Problem))
	case out.Archives != nil && !out.Archives.OK:
		ar := out.Archives
		if ar.Seq > 0 {
			return fmt.Errorf("archive %s broken at entry #%d: %s", ar.File, ar.Seq, ar.Problem)
		}
		return fmt.Errorf("archive %s: %s", ar.File, ar.Problem)
	}
	return nil
}

// auditBroken says what a failed verification found: the first broken
// entry, or, where no entry is at fault (a malformed line of
// audit.checkpoints, no key to check the checkpoints with), only what is
// wrong: "broken at entry #0" sent the reader to an entry that does not
// exist.
func auditBroken(first int64, problem string) string {
	if first == 0 {
		return "audit chain not verified: " + problem
	}
	return fmt.Sprintf("audit chain broken at entry #%d: %s", first, problem)
}

// printAuditReport prints what verified; the failure is the error's.
func (a *app) printAuditReport(out auditReport) {
	if out.FirstBroken != 0 || out.Problem != "" {
		return
	}
	fmt.Fprintf(a.stdout, "audit chain intact: %d entries, head #%d %s\n", out.Entries, out.HeadSeq, out.HeadHash)
	if out.AnchorSeq > 0 {
		fmt.Fprintf(a.stdout, "entries #1 to #%d were pruned: the chain starts after them, at the anchor a records_pruned entry names\n", out.AnchorSeq)
	}
	if ar := out.Archives; ar != nil && ar.OK && ar.Files > 0 {
		files := "files"
		if ar.Files == 1 {
			files = "file"
		}
		fmt.Fprintf(a.stdout, "archives intact: %d %s, entries #%d to #%d, chained into the database\n", ar.Files, files, ar.FromSeq, ar.ToSeq)
	}
}
