package httpapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveSlow serves the fake's handler with short timeouts on a loopback
// listener until the test ends.
func serveSlow(t *testing.T, to Timeouts) (addr string, api *fakeAPI) {
	t.Helper()
	api = newFake()
	h := NewHandler(api, Options{Token: testToken})
	srv := NewServerWith(h, nil, to)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return ln.Addr().String(), api
}

// TestSlowClientsAreCutOff sends a request's headers, and then its body,
// a byte at a time: the server hangs up at the timeout instead of waiting,
// and the half-sent submission never reaches the engine.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		to      Timeouts
		headers string // sent at once; then "trickle" one byte at a time
		trickle string
	}{
		{"slow headers", Timeouts{ReadHeader: 100 * time.Millisecond}, "POST /v1/intents HTTP/1.1\r\nHost: x\r\n", "Authorization: Bearer " + testToken + "\r\n"},
		{"slow body", Timeouts{Read: 200 * time.Millisecond}, "POST /v1/intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken +
			"\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n", `{"type":"query_knowledge","actor":"a"}  `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, api := serveSlow(t, tc.to)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tc.headers); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			var werr error
			for i := 0; i < len(tc.trickle) && werr == nil; i++ {
				time.Sleep(50 * time.Millisecond)
				_, werr = conn.Write([]byte{tc.trickle[i]})
			}
			// Whatever the server answered (408, 400, or nothing), it must
			// have hung up well before the trickle would have finished.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, rerr := http.ReadResponse(bufio.NewReader(conn), nil)
			if rerr == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 400 {
					t.Fatalf("a slow client got %s", resp.Status)
				}
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("the server waited %v for a slow client", took)
			}
			if api.calls != 0 {
				t.Fatal("a slow client's request reached the engine")
			}
			if werr == nil && rerr != nil && !strings.Contains(rerr.Error(), "EOF") && !strings.Contains(rerr.Error(), "reset") {
				t.Logf("read after trickle: %v", rerr)
			}
		})
	}
}

// TestStalledBodyIsAnswered408: a body that stops arriving is answered
// 408 in the error shape, even with the write timeout equal to the read
// timeout (the defaults): the answer gets a moment of its own to be
// written. An oversized Content-Length is refused 413 at once, before any
// "100 Continue" invites the body.
func TestStalledBodyIsAnswered408(t *testing.T) {
	t.Parallel()
	addr, api := serveSlow(t, Timeouts{Read: 300 * time.Millisecond, Write: 300 * time.Millisecond})
	send := func(req string) *http.Response {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		return resp
	}
	resp := send("POST /v1/intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken +
		"\r\nContent-Length: 146\r\n\r\n{\"type\":")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) {
		t.Fatalf("a stalled body: %s %s", resp.Status, body)
	}
	resp = send("POST /v1/intents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testToken +
		"\r\nExpect: 100-continue\r\nContent-Length: 999999999\r\n\r\n")
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":"body_too_large"`) {
		t.Fatalf("an oversized Content-Length with Expect: 100-continue: %s %s", resp.Status, body)
	}
	if api.calls != 0 {
		t.Fatal("a refused request reached the engine")
	}
}

// TestBrokenChunkedBodyIsBadBody: a chunked body whose framing is broken
// is answered 400 bad_body, naming what broke (it was never JSON to
// judge), over a raw connection, and never reaches the engine.
func TestBrokenChunkedBodyIsBadBody(t *testing.T) {
	t.Parallel()
	addr, api := serveSlow(t, Timeouts{})
	for _, tc := range []struct {
		name, body, want string
	}{
		{"chunk size not hex", "zz\r\n{}\r\n0\r\n\r\n", "invalid byte in chunk length"},
		{"chunk longer than its size", "2\r\n{\"type\":\"t\"}\r\n0\r\n\r\n", "malformed chunked encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "POST /v1/intents HTTP/1.1\r\nHost: grace\r\nAuthorization: Bearer " + testToken +
				"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + tc.body
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second)) // a hang guard only
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer resp.Body.Close()
			a := answer{status: resp.StatusCode, header: resp.Header}
			if a.body, err = io.ReadAll(resp.Body); err != nil {
				t.Fatal(err)
			}
			er := a.wantError(t, http.StatusBadRequest, CodeBadBody)
			if !strings.Contains(er.Error.Message, "request body could not be read") || !strings.Contains(er.Error.Message, tc.want) {
				t.Fatalf("message %q, want it to say the body could not be read: %s", er.Error.Message, tc.want)
			}
		})
	}
	if api.calls != 0 {
		t.Fatal("a broken body reached the engine")
	}
}
