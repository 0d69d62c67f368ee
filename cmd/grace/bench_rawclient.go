package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// rawSubmitter is a load generator's keep-alive connection kept as lean as
// wrk's: one prebuilt HTTP/1.1 request written whole, one request in
// flight, the response's status checked and its body read past. Go's
// http.Client spends about 28 µs of CPU a request on this machine's 2
// cores, CPU the API under measurement then lacks; this spends a third of
// that. The server is the same net/http server either way.
type rawSubmitter struct {
	addr string
	req  []byte
	conn net.Conn
	rd   *bufio.Reader
	ctx  context.Context
}

// newRawSubmitter prepares b's submission as raw bytes for the server at
// b.url.
func (b *httpBench) newRawSubmitter(ctx context.Context) (*rawSubmitter, error) {
	u, err := url.Parse(b.url)
	if err != nil {
		return nil, err
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, b.token, len(b.body))
	req.Write(b.body)
	return &rawSubmitter{addr: u.Host, req: req.Bytes(), ctx: ctx}, nil
}

func (s *rawSubmitter) close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// submit sends one submission and checks its 202, dialling again when the
// server closed the connection.
func (s *rawSubmitter) submit() error {
	if s.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(s.ctx, "tcp", s.addr)
		if err != nil {
			return err
		}
		s.conn, s.rd = c, bufio.NewReaderSize(c, 4096)
	}
	status, closing, err := s.roundTrip()
	if err != nil || closing {
		s.conn.Close()
		s.conn = nil
	}
	if err != nil {
		return err
	}
	if status != 202 {
		return fmt.Errorf("submit: HTTP status %d", status)
	}
	return nil
}

// roundTrip writes the request and reads one response: its status, and
// whether the server will close the connection after it.
func (s *rawSubmitter) roundTrip() (status int, closing bool, err error) {
	if _, err := s.conn.Write(s.req); err != nil {
		return 0, false, err
	}
	line, err := s.rd.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 202 Accepted\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("submit: not an HTTP response: %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("submit: status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := s.rd.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, false, fmt.Errorf("submit: Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = s.skipChunks()
	case length >= 0:
		_, err = s.rd.Discard(length)
	default:
		err = errors.New("submit: a response with neither Content-Length nor chunks")
	}
	return status, closing, err
}

// skipChunks reads past a chunked body and its empty trailer.
func (s *rawSubmitter) skipChunks() error {
	for {
		line, err := s.rd.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("submit: chunk size %q", line)
		}
		if n == 0 {
			_, err := s.rd.ReadSlice('\n') // the empty trailer
			return err
		}
		if _, err := s.rd.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}
