//go:build unix

package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The bad-input sweep: hostile values get one clear "grace: " line naming
// what is at fault, a non-zero exit, nothing on stdout, and nothing
// created or changed on disk. Each case failed before its fix (a hang, a
// file written where it should not be, or an error that named the
// plumbing instead of the input).

// runFor runs the binary like c.run, but gives up after a deadline: some
// of these inputs used to block forever (a named pipe read as a file).
func (c *cli) runFor(t *testing.T, attr *syscall.SysProcAttr, args ...string) result {
	t.Helper()
	return c.exec(t, attr, 20*time.Second, args...)
}

// wantNothingIn fails if dir holds anything but the names in keep.
func wantNothingIn(t *testing.T, dir string, keep ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		kept := false
		for _, k := range keep {
			kept = kept || e.Name() == k
		}
		if !kept {
			t.Fatalf("a refused command left %s in %s", e.Name(), dir)
		}
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func TestCLIBadInputUsage(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		// --server is checked before anything is tried (it used to reach
		// the HTTP client: `parse "::/v1/intents": missing protocol scheme`).
		{[]string{"intent", "submit", "--type", "x", "--server", "ftp://127.0.0.1/"}, `--server "ftp://127.0.0.1/": want the server's URL`},
		{[]string{"intent", "list", "--server", "127.0.0.1:7420"}, `--server "127.0.0.1:7420": want the server's URL`},
		{[]string{"intent", "approve", "some-id", "--server", "http://"}, `--server "http://": want the server's URL`},
		{[]string{"health", "--server", "http://127.0.0.1:99999"}, `--server "http://127.0.0.1:99999": port 99999`},
		{[]string{"token", "whoami", "--server", "http://127.0.0.1:7420/?a=1"}, `--server "http://127.0.0.1:7420/?a=1": want the server's URL`},
		{[]string{"chaos", "halt", "--server", "::"}, `--server "::": want the server's URL`},
		{[]string{"narratives", "search", "--server", "127.0.0.1:7420"}, `--server "127.0.0.1:7420": want the server's URL`},
		{[]string{"chaos", "run", "--all", "--server", " "}, `--server " ": want the server's URL`},
		// An empty --attach is a mistake, not the embedded console.
		{[]string{"console", "--attach", ""}, `--attach "": want the server's URL`},
		// An empty intent ID (it was looked up: "approve : approve intent : get intent : ...").
		{[]string{"intent", "approve", ""}, "approve: the intent ID is empty"},
		{[]string{"intent", "deny", " ", "--reason", "r"}, "deny: the intent ID is empty"},
		// An operator a request header cannot carry (it was "net/http: invalid header field value").
		{[]string{"intent", "approve", "some-id", "--operator", "a\nb"}, `--operator "a\nb" must be at most 128 characters of printable text`},
		// A slot count that would start that many goroutines.
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--slots", "9999999999999"}, "--slots (9999999999999) must be 1 to 1024"},
		{[]string{"worker", "--nats", "nats://127.0.0.1:1", "--name", "a\x1bb"}, `--name "a\x1bb" must be at most 128 characters`},
		// "0s" was taken as "since now" while "-5m" was refused.
		{[]string{"narratives", "search", "--since", "0s"}, `--since "0s": a duration must be positive`},
	} {
		r := c.runFor(t, nil, tc.args...)
		r.wantFail(t, exitUsage, tc.want)
		if r.stdout != "" {
			t.Errorf("grace %q printed on stdout: %q", tc.args, r.stdout)
		}
	}
	// A flag error before --json: parsing stopped before --json was read,
	// and the script that asked for JSON got nothing on stdout.
	r := c.runFor(t, nil, "intent", "list", "--limit", "abc", "--json")
	r.wantFail(t, exitUsage, `invalid argument "abc" for "--limit"`)
	var er struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	r.decode(t, &er)
	if er.Error.Code != "usage" || !strings.Contains(er.Error.Message, "--limit") {
		t.Fatalf("flag error before --json: %s", r.stdout)
	}
	if r := c.runFor(t, nil, "intent", "list", "--limit", "abc", "--json=false"); r.stdout != "" {
		t.Fatalf("--json=false printed JSON: %s", r.stdout)
	}
	wantNothingIn(t, c.dir)
}

func TestCLIBadInputIntent(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	route := []string{"intent", "route", "--type", "query_knowledge"}
	// Bytes that are not UTF-8 inside a JSON string were stored as they
	// were, and every later JSON answer carrying the payload was invalid.
	c.runFor(t, nil, append(route, "--payload", "{\"a\":\"\xff\"}")...).wantFail(t, exitFailure, "invalid intent: payload: must be UTF-8 text (byte 6 is not)")
	// The context's error says what it got, as the payload's does.
	c.runFor(t, nil, append(route, "--context", "[1]")...).wantFail(t, exitFailure, "invalid intent: context: must be a JSON object (got an array)")

	// Approving or denying in a data folder with no database finds no
	// intent, and creates nothing (it used to create the database, the
	// audit key and checkpoints, to record the refusal).
	db := filepath.Join(c.dir, "data", "grace.db")
	r := c.runFor(t, nil, "intent", "approve", "int_nosuch", "--db", db)
	r.wantFail(t, exitFailure, `grace: approve "int_nosuch": intent not found: no database at `+db+" yet")
	r = c.runFor(t, nil, "intent", "deny", "int_nosuch", "--reason", "r", "--db", db, "--json")
	r.wantFail(t, exitFailure, `deny "int_nosuch": intent not found`)
	var er struct {
		Error struct{ Code string } `json:"error"`
	}
	r.decode(t, &er)
	if er.Error.Code != "not_found" {
		t.Fatalf("deny of a missing intent --json: code %q, want not_found", er.Error.Code)
	}
	wantNothingIn(t, c.dir)

	// In a database that exists, the error says it once (it was "approve
	// X: approve intent X: get intent X: intent not found").
	if r := c.runFor(t, nil, "intent", "submit", "--type", "query_knowledge", "--db", db); r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	c.runFor(t, nil, "intent", "approve", "../x y", "--db", db).wantFail(t, exitFailure, `grace: approve "../x y": intent not found`)

	// A reason with an escape sequence reached the record (and the
	// console's screen) when the CLI wrote to the database itself.
	r = c.runFor(t, nil, "intent", "submit", "--type", "change_charter", "--db", db, "--json")
	var sub struct{ ID string }
	r.decode(t, &sub)
	c.runFor(t, nil, "intent", "deny", sub.ID, "--reason", "no\x1b[2J", "--db", db).
		wantFail(t, exitFailure, `grace: deny "`+sub.ID+`": reason holds a control character (U+001B)`)
	var list struct{ Intents []struct{ ID, State string } }
	c.runFor(t, nil, "intent", "list", "--state", "pending_approval", "--db", db, "--json").decode(t, &list)
	if len(list.Intents) != 1 || list.Intents[0].ID != sub.ID {
		t.Fatalf("after the refused denial, pending = %+v; want %s still pending", list.Intents, sub.ID)
	}
}

func TestCLIBadInputConfigFile(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	route := []string{"intent", "route", "--type", "query_knowledge"}
	fifo := filepath.Join(c.dir, "fifo.yaml")
	mkfifo(t, fifo)
	// A named pipe with no writer blocked forever; /dev/zero never ended.
	c.runFor(t, nil, append([]string{"--config", fifo}, route...)...).wantFail(t, exitFailure, "read config "+fifo+": not a regular file (a named pipe)")
	c.runFor(t, nil, append([]string{"--config", "/dev/zero"}, route...)...).wantFail(t, exitFailure, "read config /dev/zero: not a regular file (a device)")
	c.runFor(t, nil, append([]string{"--config", c.dir}, route...)...).wantFail(t, exitFailure, "read config "+c.dir+": not a regular file (a directory)")
	// /dev/null stays the way to say "no config file".
	if r := c.runFor(t, nil, append([]string{"--config", os.DevNull}, route...)...); r.code != 0 {
		t.Fatalf("--config /dev/null: exit %d: %s", r.code, r.stderr)
	}
	// An integer too large for int64 wrapped around to -2^63 and was
	// reported as "workers.count must be at least 1 (got -9223372036854775808)".
	big := filepath.Join(c.dir, "big.yaml")
	if err := os.WriteFile(big, []byte("workers:\n  count: 9999999999999999999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.runFor(t, nil, append([]string{"--config", big}, route...)...).wantFail(t, exitFailure, "big.yaml: workers.count: expected an integer, got 1e+22")
	// "1ns" for "1s": a telemetry row per nanosecond grew the database by
	// 4 MB a second.
	c.runFor(t, nil, append([]string{"--set", "watchdog.interval=1ns"}, route...)...).
		wantFail(t, exitFailure, "--set watchdog.interval: watchdog.interval (1ns) must be at least 100ms")
	// Loop periods of 1ns spun a core each; a 1ns worker heartbeat wrote
	// 150 MB of "worker declared dead" narratives in 4 seconds.
	for _, key := range []string{"workers.heartbeat_interval", "store.index_interval", "store.checkpoint_interval", "htm.shedding.interval", "hub.interval", "console.refresh",
		"kernels.heartbeat_interval", "watchdog.readiness_poll", "mesh.episode_quiet", "policy.alert_interval", "backend.nats.heartbeat_interval"} {
		c.runFor(t, nil, append([]string{"--set", key + "=1ns"}, route...)...).
			wantFail(t, exitFailure, "--set "+key+": "+key+" (1ns) must be at least 10ms")
	}

	// chaos.scenarios_dir naming a file was taken as an empty folder (it
	// is refused with the other keys now, by every command); a named pipe
	// among the scenarios blocked the load; a folder named *.yaml failed it.
	c.runFor(t, nil, "--set", "chaos.scenarios_dir="+big, "chaos", "list").
		wantFail(t, exitFailure, "chaos.scenarios_dir ("+big+") must be a folder Grace can read, of scenario files: ")
	scen := filepath.Join(c.dir, "scenarios")
	if err := os.MkdirAll(filepath.Join(scen, "folder.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(scen, "pipe.yaml"))
	r := c.runFor(t, nil, "--set", "chaos.scenarios_dir="+scen, "chaos", "list")
	lines := r.stderrLines()
	if r.code != 0 || len(lines) != 2 || !strings.Contains(lines[0], "scenario folder.yaml: not a regular file") ||
		!strings.Contains(lines[1], "scenario pipe.yaml: not a regular file") || !strings.Contains(r.stdout, "L2_trigger_mesh_storm") {
		t.Fatalf("scenarios_dir with a folder and a pipe: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestCLIBadInputDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	fifo := filepath.Join(c.dir, "pipe.db")
	mkfifo(t, fifo)
	_, journalBefore := os.Stat(os.DevNull + "-journal")
	for _, args := range [][]string{
		{"intent", "submit", "--type", "query_knowledge"},
		{"intent", "list"},
	} {
		// A named pipe blocked the store's header check.
		c.runFor(t, nil, append(args, "--db", fifo)...).wantFail(t, exitFailure, "open store "+fifo+": not a regular file (a named pipe)")
		// A device was opened by SQLite, which put its journal beside
		// it: /dev/null-journal.
		c.runFor(t, nil, append(args, "--db", os.DevNull)...).wantFail(t, exitFailure, "open store /dev/null: not a regular file (a device)")
	}
	if _, err := os.Stat(os.DevNull + "-journal"); err == nil && journalBefore != nil {
		t.Fatalf("--db /dev/null created %s-journal", os.DevNull)
	}
	wantNothingIn(t, c.dir, "pipe.db")
}

// nobody runs a command as an unprivileged user when the tests run as
// root (who may write anything), so that permissions are enforced; it
// opens the folders on the way to the binary and to dir for that user.
func nobody(t *testing.T, dir string) *syscall.SysProcAttr {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	for _, d := range []string{filepath.Dir(graceBin), filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

func TestCLIBadInputReadOnly(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	attr := nobody(t, c.dir)
	chown := func(p string) {
		if attr != nil {
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}
	chown(c.dir)
	data := filepath.Join(c.dir, "data")
	db := filepath.Join(data, "grace.db")
	if r := c.runFor(t, attr, "intent", "submit", "--type", "query_knowledge", "--db", db); r.code != 0 {
		t.Fatalf("submit: exit %d: %s", r.code, r.stderr)
	}
	// A database file this user cannot write: a submission used to log
	// "level=ERROR msg=\"store batch failed\"" lines and fail at the write.
	if err := os.Chmod(db, 0o444); err != nil {
		t.Fatal(err)
	}
	c.runFor(t, attr, "intent", "submit", "--type", "query_knowledge", "--db", db).
		wantFail(t, exitFailure, "open store "+db+": the file is read-only to this user")
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	// A data folder this user cannot write: reads too failed, with
	// "read schema: attempt to write a readonly database (1544)".
	if err := os.Chmod(data, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(data, 0o755) })
	c.runFor(t, attr, "intent", "list", "--db", db).wantFail(t, exitFailure, "the data folder "+data+" is not writable: SQLite must create grace.db-shm")
	c.runFor(t, attr, "intent", "submit", "--type", "query_knowledge", "--db", db).wantFail(t, exitFailure, "the data folder "+data+" is not writable")
	empty := filepath.Join(c.dir, "empty")
	if err := os.Mkdir(empty, 0o555); err != nil {
		t.Fatal(err)
	}
	chown(empty)
	// A new database in such a folder: "set page size: unable to open database file (14)".
	c.runFor(t, attr, "intent", "submit", "--type", "query_knowledge", "--db", filepath.Join(empty, "grace.db")).
		wantFail(t, exitFailure, "the data folder "+empty+" is not writable")
}

func TestCLIBadInputServer(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// Something that is not a grace serve answers: the error says so and
	// names it (it was "POST /v1/intents: 404 Not Found").
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	c.runFor(t, nil, "intent", "submit", "--type", "query_knowledge", "--server", other.URL).
		wantFail(t, exitFailure, "POST "+other.URL+"/v1/intents: 404 Not Found, not a Grace API answer (is "+other.URL+" a grace serve?)")
	// chaos halt whose server part failed no longer claims that nothing
	// was running anywhere.
	r := c.runFor(t, nil, "chaos", "halt", "--server", other.URL)
	r.wantFail(t, exitFailure, "chaos halt on "+other.URL)
	if strings.Contains(r.stdout, "nothing was running") || !strings.Contains(r.stdout, "local: no chaos run of this data folder was running") {
		t.Fatalf("chaos halt after the server failed: %q", r.stdout)
	}
	wantNothingIn(t, c.dir)

	// serve on a port that is taken fails before it writes anything (it
	// created the database, the audit key and the token file first).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(c.dir, "data")
	busy := &cli{dir: c.dir, env: append(c.env, "GRACE_API_LISTEN="+ln.Addr().String())}
	busy.runFor(t, nil, "serve", "--db", filepath.Join(data, "grace.db")).wantFail(t, exitFailure, "HTTP API on "+ln.Addr().String())
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve on a taken port left %s (%v)", data, err)
	}

	// An exec handler whose program is not here fails serve at start,
	// before anything is written, rather than every intent of its type.
	noProg := writeConfig(t, "api: {listen: \"127.0.0.1:0\"}\nhandlers:\n  query_knowledge: {kind: exec, command: \"ls -l\"}\n"+
		"  generate_summary: {kind: exec, command: [/nonexistent/bin]}\n")
	c.runFor(t, nil, "serve", "--config", noProg, "--db", filepath.Join(data, "grace.db")).wantFail(t, exitFailure,
		`handlers: handlers.generate_summary.command[0]: program "/nonexistent/bin" cannot be run here: stat /nonexistent/bin: no such file or directory`)
	noProg = writeConfig(t, "api: {listen: \"127.0.0.1:0\"}\nhandlers:\n  query_knowledge: {kind: exec, command: \"ls -l\"}\n")
	c.runFor(t, nil, "serve", "--config", noProg, "--db", filepath.Join(data, "grace.db")).wantFail(t, exitFailure,
		`handlers.query_knowledge.command[0]: program "ls -l" cannot be run here: executable file not found in $PATH; the command is a list, program then arguments: [ls, -l], not "ls -l"`)
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve with a missing handler program left %s (%v)", data, err)
	}

	// A token no HTTP header can carry: from the environment or the data
	// folder's token file (it failed as `net/http: invalid header field
	// value for "Authorization"`, naming neither).
	tokenEnv := &cli{dir: c.dir, env: append(c.env, "GRACE_API_TOKEN=a b")}
	tokenEnv.runFor(t, nil, "intent", "list", "--server", other.URL).wantFail(t, exitFailure, "GRACE_API_TOKEN: api.token: a token must be printable ASCII without spaces")
	tokDir := filepath.Join(c.dir, "tok")
	if err := os.Mkdir(tokDir, 0o700); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(tokDir, tokenFileName)
	if err := os.WriteFile(tokFile, []byte("two\nlines\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.runFor(t, nil, "intent", "list", "--server", other.URL, "--db", filepath.Join(tokDir, "grace.db")).
		wantFail(t, exitFailure, "API token file "+tokFile+": a token must be printable ASCII without spaces")
	if err := os.RemoveAll(tokDir); err != nil {
		t.Fatal(err)
	}

	// Without a terminal the console says so before it creates the
	// database (it failed in the terminal library after creating it).
	r = c.runFor(t, &syscall.SysProcAttr{Setsid: true}, "console", "--db", filepath.Join(data, "grace.db"))
	r.wantFail(t, exitFailure, "the console needs a terminal")
	wantNothingIn(t, c.dir)
}
