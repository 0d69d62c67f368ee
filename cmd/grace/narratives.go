package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"grace/engine/clarity"
	"grace/engine/httpapi"
)

// narrativesCommand is "grace narratives search".
func (a *app) narrativesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "narratives",
		Short: "Search the 5W1H record",
		RunE:  groupRun,
	}
	cmd.AddCommand(a.searchCommand())
	return cmd
}

func (a *app) searchCommand() *cobra.Command {
	var (
		q     clarity.Query
		since string
	)
	cmd := &cobra.Command{
		Use:   "search [QUERY] [--actor A] [--action X] [--since D] [--limit N] [--intent ID]",
		Short: "Search narratives, newest first",
		Long: `Search the narratives in the database, newest first. QUERY is full text
(all words must match); --actor and --action filter exactly; --since takes
a duration back from now (90s, 1h) or an RFC 3339 time. Reads the database
directly, even while an engine runs.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			q.Text = strings.TrimSpace(strings.Join(args, " "))
			if since != "" {
				t, err := httpapi.ParseSince(since, time.Now())
				if err != nil {
					return &usageError{err: fmt.Errorf("--%w", err)}
				}
				q.Since = t
			}
			if q.Limit < 1 || q.Limit > 10000 {
				return usageErrorf("--limit %d: want 1 to 10000", q.Limit)
			}
			return a.runSearch(cmd, q)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&q.Actor, "actor", "", "only records by this actor (who)")
	fl.StringVar(&q.Action, "action", "", "only records of this action (what), e.g. dispatched")
	fl.StringVar(&since, "since", "", "only records since a duration ago (1h) or an RFC 3339 time")
	fl.IntVar(&q.Limit, "limit", 50, "at most this many")
	fl.StringVar(&q.IntentID, "intent", "", "only records of this intent")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) runSearch(cmd *cobra.Command, q clarity.Query) error {
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	st, err := openStore(cmd.Context(), cfg, true, newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn))
	if err != nil {
		return err
	}
	defer st.Close()
	entries, err := st.Search(cmd.Context(), q)
	if err != nil {
		return fmt.Errorf("search narratives: %w", err)
	}
	if entries == nil {
		entries = []clarity.Entry{}
	}
	if a.json {
		return a.writeJSON(httpapi.NarrativesResponse{Narratives: entries})
	}
	rows := [][]string{{"WHEN", "WHO", "WHAT", "WHERE", "WHY"}}
	for _, e := range entries {
		rows = append(rows, []string{stamp(e.When), clip(e.Who, 24), clip(e.What, 20), clip(e.Where, 24), clip(strings.Join(e.Why, "; "), 72)})
	}
	a.table(rows)
	if len(entries) == 0 {
		fmt.Fprintln(a.stderr, "grace: no narratives match")
	}
	return nil
}
