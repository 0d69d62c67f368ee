package chaos

import (
	"context"
	"log/slog"
)

// IsolatedLogPrefix begins every message an isolated chaos engine (and
// the runner beside it) logs, so that its lines ("alert raised", "worker
// declared dead", "engine stopped") cannot be taken for the live engine's
// when they share a log: a filter or an alert rule on the live engine's
// messages does not match them, and a reader sees whose they are.
const IsolatedLogPrefix = "chaos isolated engine: "

// LiveLogPrefix begins the runner's own messages in a live run (the live
// engine logs as itself).
const LiveLogPrefix = "chaos run on the live engine: "

// runLogger is the logger of one scenario run: every line carries the
// chaos run's ID (when the service gave one) and the scenario's, and its
// message begins with prefix.
func runLogger(base *slog.Logger, prefix, runID, scenario string) *slog.Logger {
	attrs := []slog.Attr{slog.String("scenario", scenario)}
	if runID != "" {
		attrs = append([]slog.Attr{slog.String("chaos_run", runID)}, attrs...)
	}
	return slog.New(prefixHandler{h: base.Handler().WithAttrs(attrs), prefix: prefix})
}

// prefixHandler puts prefix before each record's message.
type prefixHandler struct {
	h      slog.Handler
	prefix string
}

func (p prefixHandler) Enabled(ctx context.Context, l slog.Level) bool { return p.h.Enabled(ctx, l) }

func (p prefixHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, p.prefix+r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return p.h.Handle(ctx, out)
}

func (p prefixHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return prefixHandler{h: p.h.WithAttrs(as), prefix: p.prefix}
}

func (p prefixHandler) WithGroup(name string) slog.Handler {
	return prefixHandler{h: p.h.WithGroup(name), prefix: p.prefix}
}
