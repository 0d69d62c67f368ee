package main

import (
	"strings"
	"testing"

	"grace/engine"
)

// TestServerURLFollowsAMovedListen: with api.server left at its default,
// the CLI talks to where api.listen moved the server (GRACE_API_LISTEN
// alone sent it to 7420, to another server); --server and an api.server of
// the operator's own always win.
func TestServerURLFollowsAMovedListen(t *testing.T) {
	t.Parallel()
	def := engine.Default().API
	for _, tc := range []struct {
		flag, server, listen, want string
	}{
		{"", def.Server, def.Listen, def.Server},
		{"", def.Server, "127.0.0.1:7431", "http://127.0.0.1:7431"},
		{"", def.Server, "0.0.0.0:7431", "http://127.0.0.1:7431"},
		{"", def.Server, ":7431", "http://127.0.0.1:7431"},
		{"", def.Server, "[::]:7431", "http://127.0.0.1:7431"},
		{"", def.Server, "[::1]:7431", "http://[::1]:7431"},
		{"", def.Server, "127.0.0.1:0", def.Server}, // any free port: nothing to follow
		{"", def.Server, "", def.Server},
		{"", "http://ops.example:9000", "127.0.0.1:7431", "http://ops.example:9000"},
		{"http://127.0.0.1:9", def.Server, "127.0.0.1:7431", "http://127.0.0.1:9"},
	} {
		cfg := engine.Default()
		cfg.API.Server, cfg.API.Listen = tc.server, tc.listen
		a := &app{server: tc.flag}
		if got := a.serverURL(cfg); got != tc.want {
			t.Errorf("--server %q, api.server %q, api.listen %q: %q, want %q", tc.flag, tc.server, tc.listen, got, tc.want)
		}
	}
}

// TestServerURLRefusalHidesItsPassword: a --server refused (a query, a bad
// port) is named without the password it holds.
func TestServerURLRefusalHidesItsPassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"http://bob:hunter2@127.0.0.1:7420/?x=1", "http://bob:hunter2@127.0.0.1:99999", "ftp://bob:hunter2@127.0.0.1:7420"} {
		err := checkServerURL("--server", raw)
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "--server") {
			t.Errorf("checkServerURL(%q) = %v; want a refusal naming --server without the password", raw, err)
		}
	}
}
