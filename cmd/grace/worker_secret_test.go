package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// authNATS starts an in-process nats-server that lets in alice with
// password right and no one else, and returns its host:port.
func authNATS(t *testing.T) string {
	t.Helper()
	return natsServerAt(t, &natsserver.Options{Username: "alice", Password: "right", JetStream: true, StoreDir: t.TempDir()})
}

// natsServerAt starts an in-process nats-server of o on a loopback port
// until the test ends, and returns its host:port.
func natsServerAt(t *testing.T, o *natsserver.Options) string {
	t.Helper()
	o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", -1, true, true
	srv, err := natsserver.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return srv.Addr().(*net.TCPAddr).String()
}

// A NATS URL's password or token never reaches what grace worker and grace
// serve print when they cannot use it (refused credentials, nothing
// listening, a URL the client cannot parse, not a nats:// URL, a config
// that refuses it) nor serve's log when they can: each says where the URL
// came from (--nats or backend.nats.url) and shows it with xxxxx in place
// of the secret, on one line without a trace. They printed the URL whole.
func TestNATSURLSecretsNeverShown(t *testing.T) {
	t.Parallel()
	addr := authNATS(t)
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c := newCLI(t)
	secrets := []string{"Wr0ngPassword", "S3cretTok3nValue", "Bad9Password", "Http7Password", "Env5Password", "Cfg3Password"}
	noSecret := func(r result) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(r.stderr+r.stdout, s) {
				t.Errorf("output shows the secret %q:\n%s%s", s, r.stdout, r.stderr)
			}
		}
	}
	for _, tc := range []struct {
		env  []string
		args []string
		code int
		want string
	}{
		{nil, []string{"worker", "--nats", "nats://alice:Wr0ngPassword@" + addr}, exitFailure,
			"connect to nats at nats://alice:xxxxx@" + addr + " (--nats): nats: Authorization Violation"},
		{nil, []string{"worker", "--nats", "nats://S3cretTok3nValue@" + closed + ",nats://alice:Wr0ngPassword@" + closed}, exitFailure,
			"connect to nats at nats://xxxxx@" + closed + ",nats://alice:xxxxx@" + closed + " (--nats)"},
		{nil, []string{"worker", "--nats", "nats://alice:Bad9Password@127.0.0.1:notaport"}, exitFailure,
			`parse "nats://alice:xxxxx@127.0.0.1:notaport": invalid port`},
		{nil, []string{"worker", "--nats", "http://alice:Http7Password@" + addr}, exitUsage,
			`--nats "http://alice:xxxxx@` + addr + `" must be a nats:// URL`},
		{[]string{"GRACE_BACKEND_NATS_URL=http://alice:Env5Password@" + addr}, []string{"worker"}, exitFailure,
			`backend.nats.url ("http://alice:xxxxx@` + addr + `") must be embedded or nats://host:port`},
		{[]string{"GRACE_BACKEND_NATS_URL=nats://alice:Cfg3Password@" + addr}, []string{"worker"}, exitFailure,
			"connect to nats at nats://alice:xxxxx@" + addr + " (backend.nats.url): nats: Authorization Violation"},
		{[]string{"GRACE_BACKEND_KIND=nats", "GRACE_BACKEND_NATS_URL=nats://alice:Cfg3Password@" + addr, "GRACE_API_LISTEN=127.0.0.1:0"},
			[]string{"serve"}, exitFailure,
			"connect to nats at nats://alice:xxxxx@" + addr + " (backend.nats.url): nats: Authorization Violation"},
	} {
		cc := *c
		cc.env = append(append([]string(nil), c.env...), tc.env...)
		r := cc.exec(t, nil, 30*time.Second, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "goroutine ") {
			t.Errorf("grace %q with %q: exit %d, stderr %q; want exit %d and %q", tc.args, tc.env, r.code, r.stderr, tc.code, tc.want)
		}
		noSecret(r)
	}
	// Let in: serve's log shows the URL it serves without the password.
	cc := *c
	apiURL := closedURL(t)
	cc.env = append(append([]string(nil), c.env...), "GRACE_BACKEND_NATS_URL=nats://alice:right@"+addr)
	s := startServe(t, &cc, writeNATSConfig(t, &cc, apiURL, freePort(t), "1ms"), apiURL)
	waitFor(t, 10*time.Second, "serve to log its nats backend", func() bool { return strings.Contains(s.logs.String(), "nats backend ready") })
	if logs := s.logs.String(); strings.Contains(logs, "alice:right@") || !strings.Contains(logs, "url=nats://alice:xxxxx@"+addr) {
		t.Errorf("serve's log shows the password, or not the URL with it hidden:\n%s", logs)
	}
}
