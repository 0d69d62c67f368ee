package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"grace/engine"
)

// FuzzServerURL gives --server a fuzzed value: no panic; a refusal is a
// usage error naming the flag and the value; an accepted URL is one the
// client's requests go to as given: to its host (an empty port is the
// scheme's), at the API's paths
// under its own (not into a query or a fragment).
func FuzzServerURL(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:7420", "https://grace.example.com/base/", "http://[::1]:7420", "http://localhost",
		"", " ", "127.0.0.1:7420", "http://", "http://:80", "ftp://h", "http://h:99999", "http://h:-1", "http://h:x", "http://h?x=1",
		"http://h/#", "http://h/?", "http://h#f", "http://u:p@h", "http://h/a b", "http://h/\x00", "http://h\x7f", "http://%zz",
		"HTTP://H", "http://h:0", "http://h:", "http://[::1", "http://h/%2e%2e/", "http://h\\x", "//h", "http:h", "\xffhttp://h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := checkServerURL("--server", raw)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "--server "+strconv.Quote(shownURL(raw))+": ") {
				t.Fatalf("refusal %q (%T) does not name --server %q", err, err, raw)
			}
			return
		}
		u, _ := url.Parse(raw)
		base := strings.TrimRight(raw, "/") // as httpapi.NewClient keeps it
		req, err := http.NewRequest(http.MethodGet, base+"/v1/intents", nil)
		if err != nil {
			t.Fatalf("--server %q accepted, but a request to it cannot be made: %v", raw, err)
		}
		if req.URL.Host != strings.TrimSuffix(u.Host, ":") || !strings.HasSuffix(req.URL.Path, "/v1/intents") || req.URL.RawQuery != "" || req.URL.Fragment != "" {
			t.Fatalf("--server %q accepted, but GET /v1/intents goes to host %q path %q query %q fragment %q",
				raw, req.URL.Host, req.URL.Path, req.URL.RawQuery, req.URL.Fragment)
		}
	})
}

// FuzzTokenFile puts fuzzed bytes in the data folder's api.token file:
// no panic; the CLI (clientToken) and the server (readTokenFile) read the
// same token from it, one that can be sent in a header, or each refuse
// it naming the file (the CLI sends no token for an empty file, where the
// server refuses it).
func FuzzTokenFile(f *testing.F) {
	tok := strings.Repeat("0123456789abcdef", 4)
	for _, s := range []string{tok + "\n", tok, tok + "\r\n", "\xef\xbb\xbf" + tok + "\n", " " + tok + " \n", "\t" + tok + "\t", tok + "\x00",
		tok + "\n" + tok + "\n", "a b", "", "\n", "\x00", "\xff\xfe" + tok, "\r", tok + "\v", "~!@#$%^&*()", "tok\u00e9n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		cfg := engine.Default()
		cfg.DB = filepath.Join(dir, "grace.db")
		cfg.API.Token = ""
		path := tokenPath(cfg)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		cli, cliErr := clientToken(cfg)
		srv, srvErr := readTokenFile(path, log)
		for _, err := range []error{cliErr, srvErr} {
			if err != nil && (!strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n")) {
				t.Fatalf("refusal %q does not name %s on one line", err, path)
			}
		}
		switch {
		case cliErr == nil && srvErr == nil:
			if cli != srv || cli == "" || !engine.ValidToken(cli) {
				t.Fatalf("the CLI reads %q, the server %q", cli, srv)
			}
		case cliErr == nil && cli == "":
			if strings.TrimSpace(string(data)) != "" {
				t.Fatalf("the CLI reads no token from %q", data)
			}
		case cliErr == nil || srvErr == nil:
			t.Fatalf("the CLI reads %q (%v), the server %q (%v)", cli, cliErr, srv, srvErr)
		}
	})
}
