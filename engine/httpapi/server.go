package httpapi

import (
	"log/slog"
	"net/http"
	"time"
)

// Default server timeouts: slow clients are cut off rather than holding a
// connection (and a goroutine) open.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// Timeouts are a server's limits on slow clients; a zero field takes the
// default above.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// NewServer returns an *http.Server for h with the default timeouts. The
// caller owns it: Serve on a listener, Shutdown to drain.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	return NewServerWith(h, logger, Timeouts{})
}

// NewServerWith returns an *http.Server for h with the timeouts t. When h
// is a *Handler, Shutdown also ends its event streams (which would
// otherwise hold Shutdown until its deadline), and the server tells the
// handler's Options.Connections listener, if any, which connections are
// idle (its ConnState), so that at the cap the longest idle makes room.
func NewServerWith(h http.Handler, logger *slog.Logger, t Timeouts) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(t.ReadHeader, ReadHeaderTimeout),
		ReadTimeout:       or(t.Read, ReadTimeout),
		WriteTimeout:      or(t.Write, WriteTimeout),
		IdleTimeout:       or(t.Idle, IdleTimeout),
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	if logger != nil {
		srv.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	}
	if hh, ok := h.(*Handler); ok {
		srv.RegisterOnShutdown(hh.Close)
		if l := hh.opts.Connections; l != nil {
			srv.ConnState = l.ConnState
		}
	}
	return srv
}
