package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
	"grace/store"
)

// intentBackend is what the intent commands ask of an engine: a running
// server over HTTP, or the database directly through an engine that is not
// started.
type intentBackend interface {
	Submit(ctx context.Context, sub intent.Submission) (engine.SubmitResult, error)
	Get(ctx context.Context, id string) (intent.Intent, error)
	WaitFinished(ctx context.Context, id string) (intent.Intent, error)
	List(ctx context.Context, f intent.Filter) ([]intent.Intent, error)
	Approve(ctx context.Context, id, operator, reason string) (intent.Intent, error)
	Deny(ctx context.Context, id, operator, reason string) (intent.Intent, error)
	Cancel(ctx context.Context, id, by, reason string) (intent.Intent, error)
	Retry(ctx context.Context, id, by, reason string) (engine.SubmitResult, error)
}

// clientTimeout bounds one CLI request to a server.
const clientTimeout = 30 * time.Second

// checkServerURL refuses a server address that cannot name a grace serve:
// it must be an http:// or https:// URL with a host, and no query or
// fragment (the API's paths are appended to it: after a bare "?" or "#"
// they would be the query or the fragment, and every request would go to
// the server's root). flag names the flag at fault in the usage error.
func checkServerURL(flag, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#") {
		return usageErrorf("%s %q: want the server's URL, like http://127.0.0.1:7420", flag, shownURL(raw))
	}
	if p := u.Port(); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return usageErrorf("%s %q: port %s is not a number in 0..65535", flag, shownURL(raw), p)
		}
	}
	return nil
}

// shownURL is raw as an error names it: its password, if it has one,
// replaced by xxxxx ("http://bob:xxxxx@host"); all else as given, so that
// what is wrong with it shows.
func shownURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
	}
	return raw
}

// serverURL is --server, else api.server. When api.server is left at its
// default but api.listen was moved (GRACE_API_LISTEN, --set, the config
// file), the CLI follows api.listen: the server it starts is the one it
// talks to.
func (a *app) serverURL(cfg engine.Config) string {
	if a.server != "" {
		return a.server
	}
	def := engine.Default().API
	if cfg.API.Server == def.Server && cfg.API.Listen != "" && cfg.API.Listen != def.Listen {
		if host, port, err := net.SplitHostPort(cfg.API.Listen); err == nil && port != "0" {
			if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
				host = "127.0.0.1"
			}
			return "http://" + net.JoinHostPort(host, port)
		}
	}
	return cfg.API.Server
}

// intentAccess is what an intent command does to the database in direct
// mode.
type intentAccess int

const (
	// readIntents opens an existing database read-only.
	readIntents intentAccess = iota
	// writeIntents opens it read-write, creating it on first use.
	writeIntents
	// changeIntents opens an existing database read-write: approving or
	// denying an intent in a database that does not exist yet finds no
	// intent and must not create one.
	changeIntents
)

// withIntents runs fn against the server, or, when no server answers
// (connection refused) or none is configured, against the database in
// direct mode, and then says so on stderr. With identities configured,
// direct mode is for reading only. access says whether fn changes
// anything (it opens the database read-write and words the notice) and
// whether a missing database is created (writeIntents) or is
// engine.ErrNotFound (changeIntents). fn must make its call before
// printing anything, so that a refused connection can be retried directly
// without double output. A server that answered and then went away (it
// stopped in the middle of a batch, or of a --wait) is an error, never a
// retry on the database: fn would run twice, its first part sent twice.
func (a *app) withIntents(cmd *cobra.Command, access intentAccess, fn func(context.Context, intentBackend) error) error {
	writes := access != readIntents
	cfg, err := a.config(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	url := a.serverURL(cfg)
	if url != "" {
		tok, err := clientToken(cfg)
		if err != nil {
			return err
		}
		tr := &answerTracker{base: http.DefaultTransport}
		c := httpapi.NewClient(url, tok, &http.Client{Timeout: clientTimeout, Transport: tr})
		c.Operator = operatorName()
		err = fn(ctx, c)
		if errors.Is(err, syscall.ECONNREFUSED) && tr.answered.Load() {
			return fmt.Errorf("the server at %s stopped answering during the command, after it had answered; "+
				"what it acknowledged stays done, and nothing was written to the database directly: %w", url, err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			if refused := a.tokenRefused(url, err); refused != nil {
				return refused
			}
			return err
		}
	}
	if writes && len(cfg.Identities) > 0 {
		// With identities, who may change what is the API's to decide: a
		// direct write would name its operator or actor unchecked.
		where := url
		if where == "" {
			where = "(api.server is empty)"
		}
		return fmt.Errorf("no server answers at %s and identities are configured: changes go through the HTTP API only (start grace serve)", where)
	}
	if _, err := os.Stat(cfg.DB); errors.Is(err, fs.ErrNotExist) {
		if access == changeIntents {
			return &missingDBError{path: cfg.DB}
		}
		if a.beforeNewDB != nil {
			if err := a.beforeNewDB(ctx, cfg); err != nil {
				return err
			}
		}
	}
	log := newLogger(a.stderr, cfg.Log.Level, slog.LevelWarn)
	st, err := openStore(ctx, cfg, !writes, log)
	if inUse := (*store.InUseError)(nil); errors.As(err, &inUse) {
		// An engine runs on this database, but not at url: the change
		// would sit unseen by it.
		where := url
		if where == "" {
			where = "(api.server is empty)"
		}
		return fmt.Errorf("no server answers at %s, but a running engine has the database (%s): send the change to its API (--server or api.server); written beside it, the change would go unseen by it", where, cmp.Or(inUse.Who(), "its lock file says no more"))
	}
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := newEngine(cfg, st, log)
	if err != nil {
		return err
	}
	if err := fn(ctx, eng); err != nil {
		return err
	}
	where := "no server at " + url
	if url == "" {
		where = "no server configured (api.server)"
	}
	switch access {
	case writeIntents:
		fmt.Fprintf(a.stderr, "grace: %s; wrote to DB directly — it runs when an engine starts\n", where)
	case changeIntents:
		fmt.Fprintf(a.stderr, "grace: %s; changed the DB directly\n", where)
	default:
		fmt.Fprintf(a.stderr, "grace: %s; read the DB directly\n", where)
	}
	return nil
}

// answerTracker is an http.RoundTripper that remembers whether the server
// answered any request: a refused connection after that is a server that
// went away, not one that was never there.
type answerTracker struct {
	base     http.RoundTripper
	answered atomic.Bool
}

func (t *answerTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		t.answered.Store(true)
	}
	return resp, err
}

// missingDBError is changeIntents finding no database: no intent can be
// there. It is engine.ErrNotFound to errors.Is.
type missingDBError struct{ path string }

func (e *missingDBError) Error() string {
	return fmt.Sprintf("%v: no database at %s yet", engine.ErrNotFound, e.path)
}

// Is makes a missing database mean a missing intent.
func (e *missingDBError) Is(target error) bool { return target == engine.ErrNotFound }

// tokenRefused says, for err, an answer of 401 from the server at url, how
// to give the CLI a token the server takes; nil for any other error. When
// the CLI had no token to send (no api.token, no token file in the data
// folder), it says that instead: most often the server at url is not the
// one of this data folder (its port was taken by another, or --db names
// another folder), and "refused the API token" would blame a token never
// sent.
func (a *app) tokenRefused(url string, err error) error {
	var he *httpapi.Error
	if !errors.As(err, &he) || he.Code != httpapi.CodeUnauthorized {
		return nil
	}
	if a.cfg != nil {
		if tok, terr := clientToken(*a.cfg); terr == nil && tok == "" {
			return fmt.Errorf("server at %s wants an API token and the CLI has none: api.token is not set and there is no readable token file %s "+
				"(a server writes its own into its data folder: is %s the server of this data folder? "+
				"use --db with that server's data folder, or set api.token or GRACE_API_TOKEN): %w",
				url, tokenPath(*a.cfg), url, err)
		}
	}
	return fmt.Errorf("server at %s refused the API token (set api.token, or use the data folder's %s): %w", url, tokenFileName, err)
}
