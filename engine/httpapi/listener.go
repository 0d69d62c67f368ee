package httpapi

import (
	"net"
	"net/http"
	"sync"
)

// LimitListener returns a listener that serves at most n of ln's
// connections at once (n <= 0: DefaultMaxConnections), so that clients
// that open connections and leave them idle or unread cannot take every
// file the process may open.
//
// At the cap, Accept still takes the next connection, and makes room for
// it by closing the connection that has been an idle keep-alive the
// longest (counted in ConnFigures.Evicted): one client holding n idle
// connections no longer locks everyone else out until the idle timeout. A
// connection busy with a request or an event stream is never closed for
// this; when all are busy, the new connection waits (ConnFigures.Waiting)
// until one closes or goes idle, and those behind it wait in the system's
// backlog. As with the server's own idle timeout, a client that sends its
// next request on an idle connection just as it is closed sees the
// connection close without an answer (Go's client sends an idempotent
// request again).
//
// The listener learns which connections are idle from the server: the
// server's ConnState must be the listener's (NewServerWith does that for
// a Handler given the listener as Options.Connections). Without it no
// connection is closed to make room, and a new one at the cap waits for
// one to close.
func LimitListener(ln net.Listener, n int) *LimitedListener {
	if n <= 0 {
		n = DefaultMaxConnections
	}
	return &LimitedListener{Listener: ln, max: n, conns: map[*limitConn]struct{}{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// LimitedListener is LimitListener's listener. It is safe for concurrent
// use.
type LimitedListener struct {
	net.Listener
	max       int
	closeOnce sync.Once
	done      chan struct{} // closed by Close: a waiting Accept gives up
	wake      chan struct{} // a place was given back or a connection went idle

	mu      sync.Mutex
	conns   map[*limitConn]struct{} // the connections served, each holding a place
	waiting int                     // Accepts holding a connection until there is a place
	idleSeq uint64                  // counts connections going idle: the lowest idleAt has been idle longest
	evicted uint64
}

// ConnFigures are a LimitedListener's counts, for /metrics.
type ConnFigures struct {
	Max     int    // the cap (api.max_connections)
	Open    int    // connections being served, each holding a place
	Idle    int    // of those, idle keep-alive connections (the server said so through ConnState)
	Waiting int    // connections accepted and waiting for a place (more may wait in the system's backlog)
	Evicted uint64 // idle keep-alive connections closed since start to make room for a new one
}

// Figures returns the listener's counts now.
func (l *LimitedListener) Figures() ConnFigures {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := ConnFigures{Max: l.max, Open: len(l.conns), Waiting: l.waiting, Evicted: l.evicted}
	for c := range l.conns {
		if c.idle {
			f.Idle++
		}
	}
	return f
}

// Accept waits for the next connection and returns it once it has a
// place: at once below the cap, else after closing the longest-idle
// keep-alive connection, or once one closes or goes idle. It returns
// net.ErrClosed when the listener is closed while the connection waits
// (which is then closed).
func (l *LimitedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitConn{Conn: c, l: l}
	l.mu.Lock()
	l.waiting++
	for {
		if len(l.conns) < l.max {
			l.conns[lc] = struct{}{}
			l.waiting--
			if l.waiting > 0 {
				l.signal() // another Accept may find room too
			}
			l.mu.Unlock()
			return lc, nil
		}
		if victim := l.longestIdle(); victim != nil {
			delete(l.conns, victim) // its place is the new connection's
			l.evicted++
			l.mu.Unlock()
			_ = victim.Conn.Close() // the server's read fails, and it lets the connection go
			l.mu.Lock()
			continue
		}
		l.mu.Unlock()
		select {
		case <-l.wake:
		case <-l.done:
			l.mu.Lock()
			l.waiting--
			l.mu.Unlock()
			_ = c.Close()
			return nil, net.ErrClosed
		}
		l.mu.Lock()
	}
}

// longestIdle returns the served connection idle the longest, or nil when
// none is idle. Called with mu held.
func (l *LimitedListener) longestIdle() *limitConn {
	var oldest *limitConn
	for c := range l.conns {
		if c.idle && (oldest == nil || c.idleAt < oldest.idleAt) {
			oldest = c
		}
	}
	return oldest
}

// ConnState follows the server's connections (set it as the
// http.Server's ConnState): an idle keep-alive connection may be closed to
// make room at the cap; one in any other state may not. Connections
// another listener accepted are ignored.
func (l *LimitedListener) ConnState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitConn)
	if !ok || lc.l != l {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, open := l.conns[lc]; !open {
		return // closed already (StateClosed comes after Close)
	}
	lc.idle = st == http.StateIdle
	if lc.idle {
		l.idleSeq++
		lc.idleAt = l.idleSeq
		if l.waiting > 0 {
			l.signal()
		}
	}
}

// Close closes the underlying listener; an Accept waiting for a place
// returns net.ErrClosed. Connections already served stay open.
func (l *LimitedListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// release gives c's place back if it still holds one (an evicted
// connection's was given away already).
func (l *LimitedListener) release(c *limitConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.conns[c]; !ok {
		return
	}
	delete(l.conns, c)
	l.signal()
}

// signal wakes a waiting Accept without blocking. Called with mu held.
func (l *LimitedListener) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// limitConn is a served connection: closed, it gives its place back.
// idle and idleAt are guarded by the listener's mu.
type limitConn struct {
	net.Conn
	l      *LimitedListener
	idle   bool
	idleAt uint64
}

// Close closes the connection and gives its place back.
func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.l.release(c)
	return err
}
