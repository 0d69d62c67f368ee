package tui

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// baseURLer is a remote engine (httpapi.Remote) that says where it
// answers: the console is attached to it, and the header names it.
type baseURLer interface{ BaseURL() string }

// serverName is where base (a remote engine's URL) answers, for the
// header: its host and port ("10.0.4.17:7420"), the URL whole when it
// has no host.
func serverName(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return strings.TrimSpace(base)
	}
	return u.Host
}

// reachText says in the operator's words why a remote engine did not
// answer: what is wrong ("server unreachable", "token refused", "server
// error") and, when known, the cause in a few words ("connection
// refused"). transport is true when err is a failure to reach the server
// or its refusal of the token, false for an answer the engine gave (or an
// error this cannot place).
func reachText(err error) (what, why string, transport bool) {
	var hs interface{ HTTPStatus() int }
	if errors.As(err, &hs) {
		if s := hs.HTTPStatus(); s != http.StatusUnauthorized {
			return "server error", "HTTP " + strconv.Itoa(s), false
		}
		return "token refused", "", true
	}
	what = "server unreachable"
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return what, "connection refused", true
	case errors.Is(err, syscall.ECONNRESET):
		return what, "connection reset", true
	case errors.As(err, &dns):
		return what, "host not found", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return what, "no answer", true
	}
	// The innermost cause, without the request it was about.
	return what, lastPart(err.Error()), errors.As(err, &op)
}

// unreachableTexts are the header's ways of saying that the remote engine
// does not answer, longest first: "▲ server unreachable since 12:52:26
// (connection refused)", "▲ connection refused since 12:52:26" (what fits
// at 80 columns), down to "▲ unreachable 12:52:26". Nil while it answers.
func (m *model) unreachableTexts() []string {
	err := m.pc.snapErr
	if err == nil {
		return nil
	}
	what, why, _ := reachText(err)
	at := m.pc.snapErrSince.In(m.pc.now().Location()).Format("15:04:05")
	short := strings.TrimPrefix(what, "server ")
	out := []string{}
	if why != "" {
		out = append(out, "▲ "+what+" since "+at+" ("+why+")", "▲ "+short+" since "+at+" ("+why+")")
		if len(why) <= 20 { // "connection refused", "no answer": the cause says it all
			out = append(out, "▲ "+why+" since "+at)
		}
	}
	return append(out, "▲ "+what+" since "+at, "▲ "+short+" since "+at, "▲ "+short+" "+at)
}

// staleMark is what the dashboard's figures carry when they are not
// current: "▲ as of 12:52:25", the time of the last snapshot; "" while
// they are live.
func staleMark(pc *programContext) string {
	if pc.snapAt.IsZero() {
		return ""
	}
	age := pc.now().Sub(pc.snapAt)
	if pc.snapErr == nil && (age < 2*pc.refresh || age < minStale) {
		return ""
	}
	return "▲ as of " + pc.snapAt.In(pc.now().Location()).Format("15:04:05")
}

// failText is err for the status line: a request to a remote engine that
// did not get there is said in a few words after what was asked ("search
// narratives: connection refused", not the method, the whole URL and the
// dial error, which at 80 columns cut the cause off); the header says
// since when. Any other error is whole.
func failText(err error) string {
	what, why, transport := reachText(err)
	msg := err.Error()
	i := strings.Index(msg, "http://")
	if j := strings.Index(msg, "https://"); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if !transport || i < 0 {
		return msg
	}
	if why == "" {
		why = what
	}
	// What was asked is the wrapping before "GET http://…".
	if j := strings.LastIndex(msg[:i], ": "); j >= 0 {
		return msg[:j+2] + why
	}
	return why
}
