package main

import (
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// A NATS server without JetStream is named as such, with its URL's
// password hidden and how to enable JetStream, by grace worker and grace
// serve alike: they said only "no responders".
func TestNATSWithoutJetStreamIsNamed(t *testing.T) {
	t.Parallel()
	addr := natsServerAt(t, &natsserver.Options{Username: "alice", Password: "N0JsSecret"}) // no JetStream
	url := "nats://alice:N0JsSecret@" + addr
	c := newCLI(t)
	want := "JetStream is not enabled on the NATS server at nats://alice:xxxxx@" + addr + ": run nats-server with JetStream enabled (nats-server -js"
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"worker", "--nats", url}},
		{[]string{"GRACE_BACKEND_KIND=nats", "GRACE_BACKEND_NATS_URL=" + url, "GRACE_API_LISTEN=127.0.0.1:0"}, []string{"serve"}},
	} {
		cc := *c
		cc.env = append(append([]string(nil), c.env...), tc.env...)
		r := cc.exec(t, nil, 30*time.Second, tc.args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr+r.stdout, "N0JsSecret") {
			t.Errorf("grace %q: exit %d, stderr %q; want exit %d and %q, no password", tc.args, r.code, r.stderr, exitFailure, want)
		}
	}
}
