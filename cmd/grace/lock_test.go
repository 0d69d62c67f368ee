package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOneEngineADatabase: while grace serve runs on a database, a second
// grace serve on it is refused, naming the first (its pid and API), and
// so is a command writing the database directly because its --server is
// wrong: two engines would each requeue the other's running intents as a
// crash's leftovers and run them twice, and a change written beside a
// running engine sits unseen by it. Reading the database directly still
// works, and nothing refused is stored.
func TestOneEngineADatabase(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	first := startServe(t, c, writeServeConfig(t, c.dir, url, ""), url)
	if r := c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.a"); r.code != 0 {
		t.Fatalf("submit to the server: exit %d: %s", r.code, r.stderr)
	}

	other := closedURL(t)
	second := filepath.Join(c.dir, "second.yaml")
	body := "api:\n  listen: " + strings.TrimPrefix(other, "http://") + "\ncortex:\n  enabled: false\n"
	if err := os.WriteFile(second, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	holder := fmt.Sprintf("pid %d, grace serve, API %s", first.cmd.Process.Pid, url)
	c.runFor(t, nil, "serve", "--config", second).wantFail(t, exitFailure, "in use by another Grace process: "+holder)
	c.run(t, "intent", "submit", "--type", "query_knowledge", "--actor", "agent.a", "--server", other).
		wantFail(t, exitFailure, "no server answers at "+other+", but a running engine has the database ("+holder)

	if n := len(listIntents(t, c)); n != 1 {
		t.Fatalf("%d intents stored, want 1: the refused submission stored one", n)
	}
	if r := c.run(t, "audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify beside a running engine: exit %d: %s", r.code, r.stderr)
	}
}

// TestSecondServeSameConfigNamesTheFirst: grace serve started a second
// time with the same config (the same port) is refused naming the first
// (its pid and API), as one on another port is; it said only "bind:
// address already in use". With nothing else holding the database, a
// taken port is refused as before, naming no process.
func TestSecondServeSameConfigNamesTheFirst(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	config := writeServeConfig(t, c.dir, url, "")
	first := startServe(t, c, config, url)
	holder := fmt.Sprintf("pid %d, grace serve, API %s", first.cmd.Process.Pid, url)
	r := c.runFor(t, nil, "serve", "--config", config)
	r.wantFail(t, exitFailure, "address already in use; the database is in use by another Grace process too: "+holder)

	other := newCLI(t) // its own folder: the port is taken, the database free
	r = other.runFor(t, nil, "serve", "--config", writeServeConfig(t, other.dir, url, ""))
	r.wantFail(t, exitFailure, "address already in use")
	if strings.Contains(r.stderr, "in use by another Grace process") {
		t.Fatalf("a taken port beside a free database names a holder: %s", r.stderr)
	}
}

// TestSignalWhileStartingIsACleanStop: a SIGTERM that reaches grace serve
// while it is still starting (here: waiting for a CLI write's brief hold
// on the database) stops it cleanly, exit 0, as after it has started; it
// exited 1 with "context canceled" or the hold's error.
func TestSignalWhileStartingIsACleanStop(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	config := writeServeConfig(t, c.dir, url, "")
	data := filepath.Join(c.dir, "grace-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	lockFile := holdBriefly(t, data)

	logs := &syncBuffer{}
	cmd := exec.Command(graceBin, "serve", "--config", config)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = c.dir, append(os.Environ(), c.env...), logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		done <- nil
	})
	waitForHold(t, cmd.Process.Pid, lockFile)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		if err != nil || strings.Contains(logs.String(), "grace: ") {
			t.Fatalf("serve stopped while starting: %v\n%s", err, logs.String())
		}
		if !strings.Contains(logs.String(), `msg="stopped while starting" cause=signal`) {
			t.Fatalf("the log does not say it stopped while starting:\n%s", logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM while waiting for the hold:\n%s", logs.String())
	}
}

// holdBriefly takes the database lock of the data folder data as a CLI
// write does (a brief hold, which a starting engine waits for) until the
// test ends, and returns the lock file's path.
func holdBriefly(t *testing.T, data string) string {
	t.Helper()
	lockFile := filepath.Join(data, "grace.db.lock")
	f, err := os.OpenFile(lockFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, `{"holder":"grace intent submit (a test's brief hold)","pid":%d,"since":%q,"brief":true}`+"\n",
		os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	return lockFile
}

// waitForHold waits until process pid holds lockFile open: it waits for
// the hold then, its signal handler in place.
func waitForHold(t *testing.T, pid int, lockFile string) {
	t.Helper()
	waitFor(t, 20*time.Second, "the process to wait for the database's hold", func() bool {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && target == lockFile {
				return true
			}
		}
		return false
	})
}

// TestConsoleSignalWhileStartingIsACleanStop: the console, stopped by a
// signal while it starts (waiting for a CLI write's hold on the database),
// exits 0 and prints no error, as serve does.
func TestConsoleSignalWhileStartingIsACleanStop(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (.ci/run installs it)")
	}
	t.Parallel()
	c, url := newServerCLI(t)
	cfg := writeServeConfig(t, c.dir, url, "")
	data := filepath.Join(c.dir, "grace-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	lockFile := holdBriefly(t, data)
	socket := filepath.Join(c.dir, "tmux.sock")
	codeFile := filepath.Join(c.dir, "console.exit")
	pidFile := filepath.Join(c.dir, "console.pid")
	script := fmt.Sprintf("cd %q && echo $$ > %q && exec sh -c '%s console --config %s; echo $? > %s; sleep 60'", c.dir, pidFile, graceBin, cfg, codeFile)
	if out, err := tmux(t, socket, "new-session", "-d", "-s", "grace", "-x", "100", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { _, _ = tmux(t, socket, "kill-server") })
	// The console is the child of the shell that wrote its pid.
	var pid int
	waitFor(t, 20*time.Second, "the console to start", func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		kids, err := os.ReadFile(fmt.Sprintf("/proc/%s/task/%s/children", strings.TrimSpace(string(b)), strings.TrimSpace(string(b))))
		if err != nil {
			return false
		}
		_, err = fmt.Sscan(string(kids), &pid)
		return err == nil
	})
	waitForHold(t, pid, lockFile)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the console to exit", func() bool { _, err := os.Stat(codeFile); return err == nil })
	b, _ := os.ReadFile(codeFile)
	screen, _ := tmux(t, socket, "capture-pane", "-p", "-t", "grace")
	if strings.TrimSpace(string(b)) != "0" || strings.Contains(screen, "grace: ") {
		t.Fatalf("the console stopped while starting: exit %s\n%s", strings.TrimSpace(string(b)), screen)
	}
}
