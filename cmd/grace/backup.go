package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"grace/store"
)

// backupCommand is "grace backup DIR".
func (a *app) backupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup DIR",
		Short: "Copy the data folder, consistently, while the engine runs; then verify the copy",
		Long: `Write a consistent copy of the data folder into DIR, a new or empty folder:
the database as of one moment (intents, the 5W1H record, the audit chain,
chaos runs, telemetry), its full-text index, the audit key pair and the
signed checkpoints. A running grace serve or console goes on working
meanwhile; the command reads the database directly, as "audit verify" does.

The copy is made in a hidden folder beside DIR, its audit chain verified
there against the checkpoints copied with it, and then renamed into place,
so DIR never holds half a backup or an unverified one (an interrupted
backup leaves nothing; one killed leaves its hidden folder, which the next
backup to DIR removes). The command exits 1 if the chain does not verify.

DIR is private (mode 0700): it holds the audit signing key. To restore,
stop Grace and point --db at DIR's database (or move DIR into place as the
data folder).`,
		Args: oneArg("the folder DIR to write the backup into (new or empty)", ""),
		RunE: a.runBackup,
	}
	a.addJSONFlag(cmd)
	return cmd
}

// backupReport is backup's JSON document.
type backupReport struct {
	Dir         string `json:"dir"`
	DB          string `json:"db"`
	Bytes       int64  `json:"bytes"`
	Search      bool   `json:"search_index"`
	Checkpoints int    `json:"checkpoints"`
	Verified    bool   `json:"verified"`
	Entries     int64  `json:"entries"`
	HeadSeq     int64  `json:"head_seq"`
	HeadHash    string `json:"head_hash"`
	Problem     string `json:"problem,omitempty"`
}

func (a *app) runBackup(cmd *cobra.Command, args []string) error {
	if strings.TrimSpace(args[0]) == "" {
		// It was taken as the current folder: an unset "$DIR" wrote the
		// backup (signing key and all) wherever the command ran.
		return usageErrorf("backup: the folder name is empty; name a new folder for the backup")
	}
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn)
	st, err := openStore(ctx, cfg, true, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// The copy is verified where it is built, before it takes DIR's
	// name: DIR only ever appears verified, and Ctrl-C during the
	// verification leaves nothing either.
	var vr store.VerifyReport
	rep, err := st.Backup(ctx, args[0], func(ctx context.Context, db string) error {
		b, err := store.Open(ctx, db, storeOptions(cfg, true, false, commandLine(), log))
		if err != nil {
			return fmt.Errorf("backup not written to %s: its copy does not open: %w", args[0], err)
		}
		defer b.Close()
		if vr, err = b.VerifyAudit(ctx); err != nil {
			return fmt.Errorf("backup not written to %s: its audit chain could not be verified: %w", args[0], err)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil && cmd.Context().Err() == nil {
			return errors.New("backup interrupted: nothing was written")
		}
		return err
	}
	if data, err := filepath.EvalSymlinks(st.DataDir()); err == nil {
		if rel, err := filepath.Rel(data, rep.Dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			fmt.Fprintf(a.stderr, "grace: warning: the backup is inside the data folder %s: a disk lost with it loses the backup too; keep a copy elsewhere\n", data)
		}
	}
	out := backupReport{Dir: rep.Dir, DB: rep.DB, Bytes: rep.Bytes, Search: rep.Search, Checkpoints: rep.Checkpoints}
	out.Verified, out.Entries, out.HeadSeq, out.HeadHash, out.Problem = vr.OK, vr.Entries, vr.HeadSeq, vr.HeadHash, vr.Problem
	if a.json {
		if err := a.writeJSON(out); err != nil {
			return err
		}
	} else if vr.OK {
		index := "with its full-text index"
		if !rep.Search {
			index = "without a full-text index (built when Grace opens it)"
		}
		fmt.Fprintf(a.stdout, "backup written to %s (%s, %s), %s\n", rep.Dir, rep.DB, sizeText(rep.Bytes), index)
		fmt.Fprintf(a.stdout, "audit chain verified: %d entries, head #%d %s, %d signed checkpoints\n",
			vr.Entries, vr.HeadSeq, vr.HeadHash, rep.Checkpoints)
	}
	if !vr.OK {
		return fmt.Errorf("backup written to %s, but %s", rep.Dir, auditBroken(vr.FirstBroken, vr.Problem))
	}
	return nil
}

// sizeText is n bytes for a person: "724 MB", "18 kB".
func sizeText(n int64) string {
	switch {
	case n >= 10<<30:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d kB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
