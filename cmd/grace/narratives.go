package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/ansi"
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

// searchMaxLimit is the most narratives one search returns (the store's
// and the API's bound).
const searchMaxLimit = 1000

func (a *app) searchCommand() *cobra.Command {
	var (
		q      clarity.Query
		since  string
		follow bool
		every  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "search [QUERY] [--actor A] [--action X] [--since D] [--limit N] [--intent ID] [--before ID] [--follow]",
		Short: "Search narratives, newest first, or follow them as they are written",
		Long: `Search the narratives in the database, newest first. QUERY is full text:
all words must match, a word ending in * is a prefix, a word beginning with
- must not occur ('charter -denied'; a query that begins with - needs --
before it: grace narratives search -- -denied), and an intent's ID alone
finds that intent's records. A phrase in double quotes, and a word of
several parts (worker_1, 10.0.0.1, api-key), needs its words side by side,
in order, within one field: grace narratives search '"disk full" -load_shed'
(quote it for the shell too; an open quote runs to the end; “ ” and „ count
as double quotes). A page reads at most 100,000 records holding a phrase's
words, or, for words to leave out alone, 100,000 records; past that it ends
early, saying on standard error the --before that reads on (with --json,
as resume_before), or, with none found, fails saying to narrow the search.
A QUERY with no letters or digits ('!!!', '*') is refused (exit 2): leave
it out to list the newest records.
--actor and --action filter exactly; --since takes a duration back from
now (90s, 1h, 7d) or an RFC 3339 time; --before ID pages, reading the records
older than narrative ID. Reads the database directly, even while an engine
runs; with --server, asks that grace serve instead (GET /v1/narratives,
with the API token), for a record on another machine.

--follow (-f) prints the newest --limit matches oldest first, as tail -f
does, then each new match as it is written, until interrupted (Ctrl-C);
with --json, one JSON object a line.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			q.Text = strings.TrimSpace(strings.Join(args, " "))
			if since != "" {
				t, err := httpapi.ParseSince(since, time.Now())
				if err != nil {
					return &usageError{err: fmt.Errorf("--%w", err)}
				}
				q.Since = t
			}
			if q.BeforeID < 0 {
				return usageErrorf("--before %d: want a narrative ID (a positive integer)", q.BeforeID)
			}
			if follow && q.BeforeID > 0 {
				return usageErrorf("--before is not for --follow, which reads on from the newest records")
			}
			if q.Limit < 1 || q.Limit > searchMaxLimit {
				return usageErrorf("--limit %d: want 1 to %d", q.Limit, searchMaxLimit)
			}
			if cmd.Flags().Changed("interval") && !follow {
				return usageErrorf("--interval is for --follow")
			}
			if every < 10*time.Millisecond || every > time.Hour {
				return usageErrorf("--interval %v: want 10ms to 1h", every)
			}
			if follow {
				return a.followSearch(cmd, q, every)
			}
			return a.runSearch(cmd, q)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&q.Actor, "actor", "", "only records by this actor (who)")
	fl.StringVar(&q.Action, "action", "", "only records of this action (what), e.g. dispatched")
	fl.StringVar(&since, "since", "", "only records since a duration ago (1h, 7d) or an RFC 3339 time")
	fl.IntVar(&q.Limit, "limit", 50, "at most this many (with --follow: of the records already written)")
	fl.StringVar(&q.IntentID, "intent", "", "only records of this intent")
	fl.Int64Var(&q.BeforeID, "before", 0, "only records older than this narrative ID: the next page after the oldest one shown (see --json's id)")
	fl.BoolVarP(&follow, "follow", "f", false, "then print new records as they are written, until interrupted")
	fl.DurationVar(&every, "interval", time.Second, "with --follow, how often to look for new records")
	fl.StringVar(&a.server, "server", "", "ask the grace serve at this URL instead of reading the database")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) runSearch(cmd *cobra.Command, q clarity.Query) error {
	st, done, err := a.searcher(cmd)
	if err != nil {
		return err
	}
	defer done()
	page, err := clarity.SearchPage(cmd.Context(), st, q)
	if err != nil {
		return a.searchFailed(err, q.Text)
	}
	entries := page.Entries
	if entries == nil {
		entries = []clarity.Entry{}
	}
	if page.ResumeBefore > 0 {
		fmt.Fprintf(a.stderr, "grace: the search stopped early, at the most records one page reads; older matches may remain: --before %d reads on\n", page.ResumeBefore)
	}
	if a.json {
		return a.writeJSON(httpapi.NarrativesResponse{Narratives: entries, ResumeBefore: page.ResumeBefore})
	}
	if len(entries) == 0 {
		fmt.Fprintln(a.stderr, "grace: no narratives match") // not a bare header
		return nil
	}
	rows := [][]string{narrativeHeader}
	for _, e := range entries {
		rows = append(rows, narrativeRow(e))
	}
	a.table(rows)
	return nil
}

// searcher is the record to search: the grace serve named by --server,
// else the configured database, opened read-only. done releases it.
func (a *app) searcher(cmd *cobra.Command) (s clarity.Searcher, done func(), err error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, nil, err
	}
	if a.server != "" {
		tok, err := clientToken(cfg)
		if err != nil {
			return nil, nil, err
		}
		return httpapi.NewClient(a.server, tok, &http.Client{Timeout: clientTimeout}), func() {}, nil
	}
	st, err := openStore(cmd.Context(), cfg, true, newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn))
	if err != nil {
		return nil, nil, err
	}
	return st, func() { _ = st.Close() }, nil
}

// searchFailed words a failed search, naming a server that does not
// answer or refuses the token. A QUERY text with no letters or digits is
// a usage error (exit 2), refused by the store or the server alike.
func (a *app) searchFailed(err error, text string) error {
	if errors.Is(err, clarity.ErrNoWords) {
		return usageErrorf("QUERY %s %v: search for a word, or leave QUERY out to list the newest records",
			quoteClip(text, 40), clarity.ErrNoWords)
	}
	if a.server != "" {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("no server answers at %s: start grace serve there, or search the database without --server", a.server)
		}
		if refused := a.tokenRefused(a.server, err); refused != nil {
			return refused
		}
		return fmt.Errorf("search narratives at %s: %w", a.server, err)
	}
	return err // the store's error names the search
}

var narrativeHeader = []string{"WHEN", "WHO", "WHAT", "WHERE", "WHY"}

func narrativeRow(e clarity.Entry) []string {
	return []string{stamp(e.When), clip(e.Who, 24), clip(e.What, 20), clip(e.Where, 24), clip(strings.Join(e.Why, "; "), 72)}
}

// followSearch prints the newest matches of q oldest first, then every
// new match as it is written (looking every interval), until it is
// interrupted: a signal ends it cleanly. Text rows are padded to fixed
// widths, since they come a few at a time; --json writes one entry a line.
func (a *app) followSearch(cmd *cobra.Command, q clarity.Query, every time.Duration) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, done, err := a.searcher(cmd)
	if err != nil {
		return err
	}
	defer done()
	entries, err := st.Search(ctx, q)
	if err != nil {
		return followEnd(ctx, a.searchFailed(err, q.Text))
	}
	slices.Reverse(entries)
	if !a.json {
		a.followRow(narrativeHeader)
	}
	var last int64
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		for _, e := range entries {
			if err := a.followEntry(e); err != nil {
				return err
			}
			last = e.ID
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if entries, err = newMatches(ctx, st, q, last); err != nil {
			if a.server != "" && errors.Is(err, syscall.ECONNREFUSED) { // it answered before
				return followEnd(ctx, fmt.Errorf("the server at %s stopped answering; the records above are all it sent: %w", a.server, err))
			}
			return followEnd(ctx, a.searchFailed(err, q.Text))
		}
	}
}

// followEnd is err, unless ctx ended (an interrupt is no error).
func followEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// newMatches returns, oldest first, every match of q written after the
// narrative last, a page at a time.
func newMatches(ctx context.Context, st clarity.Searcher, q clarity.Query, last int64) ([]clarity.Entry, error) {
	q.AfterID, q.BeforeID, q.Limit = last, 0, searchMaxLimit
	var all []clarity.Entry
	for {
		page, err := clarity.SearchPage(ctx, st, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Entries...)
		switch {
		case page.ResumeBefore > 0:
			q.BeforeID = page.ResumeBefore // stopped early: read on
		case len(page.Entries) < q.Limit:
			slices.Reverse(all)
			return all, nil
		default:
			q.BeforeID = page.Entries[len(page.Entries)-1].ID
		}
	}
}

func (a *app) followEntry(e clarity.Entry) error {
	if !a.json {
		a.followRow(narrativeRow(e))
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

// followRow writes one row padded to the widths of narrativeRow's columns.
func (a *app) followRow(r []string) {
	widths := []int{19, 24, 20, 24}
	var b strings.Builder
	for i, c := range r {
		c = terminalSafe(c)
		b.WriteString(c)
		if i < len(widths) {
			b.WriteString(strings.Repeat(" ", max(widths[i]-ansi.StringWidth(c), 0)+2))
		}
	}
	fmt.Fprintln(a.stdout, strings.TrimRight(b.String(), " "))
}
