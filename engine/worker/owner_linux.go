//go:build linux

package worker

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procDir is the process table read for leftovers.
const procDir = "/proc"

// maxSweepRounds bounds the scans of killLeftovers. A round kills what it
// finds; the next looks for what those processes started meanwhile, until
// one finds nothing new. A tree of shells forking as fast as they can
// takes a few rounds; one that outruns this many is reported.
const maxSweepRounds = 20

// exitWait bounds how long killLeftovers waits for the processes it killed
// to exit. A killed process runs no more of its own code, but until it has
// exited it still holds its files, locks and ports, which a task's rerun
// may need; only one stuck in the kernel (a hung network file system)
// takes long.
const exitWait = 10 * time.Second

// selfProcess is this process's EnvOwnerProcess value, "<pid>:<start time>".
func selfProcess() string {
	pid := os.Getpid()
	if start, _, err := procStart(pid); err == nil {
		return strconv.Itoa(pid) + ":" + start
	}
	return strconv.Itoa(pid)
}

// killLeftovers SIGKILLs every process, this one aside, whose environment
// holds the entry EnvOwner=owner and whose EnvOwnerProcess names no running
// process (self, this process, runs), scanning /proc again after each
// round of kills until a round finds nothing new, then waits (up to
// exitWait) until they have exited. It returns how many processes it
// killed.
func killLeftovers(owner, self string) (int, error) {
	mark := []byte(EnvOwner + "=" + owner)
	me := os.Getpid()
	killed := map[int]string{} // PID → start time
	for round := 0; ; round++ {
		if round == maxSweepRounds {
			return len(killed), fmt.Errorf("kill leftover handler processes: new ones still appear after %d rounds", maxSweepRounds)
		}
		entries, err := os.ReadDir(procDir)
		if err != nil {
			return len(killed), fmt.Errorf("look for leftover handler processes in %s: %w", procDir, err)
		}
		fresh := 0
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == me || !isLeftover(pid, mark, self) {
				continue
			}
			if start, ok := killLeftover(pid, mark, self); ok && killed[pid] != start {
				killed[pid] = start
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	return len(killed), waitExited(maps.Clone(killed), exitWait)
}

// killLeftover SIGKILLs pid if it is still a leftover, and returns its
// start time and whether it was signalled. The process is pinned first
// (os.FindProcess holds a pidfd where the kernel has them) and read after:
// if the pinned process is still there to be signalled, what was read was
// its own, not that of a newer process that got its PID.
func killLeftover(pid int, mark []byte, self string) (start string, ok bool) {
	p, err := os.FindProcess(pid)
	if err != nil {
		return "", false
	}
	defer p.Release()
	start, exited, err := procStart(pid)
	if err != nil || exited || !isLeftover(pid, mark, self) {
		return "", false
	}
	return start, p.Signal(syscall.SIGKILL) == nil
}

// waitExited waits until none of procs (PID → start time) runs: gone,
// exited (a zombie), or its PID taken by another process. It looks at
// growing intervals, as no event tells of the exit of a process that is
// not one's child, and gives up after limit.
func waitExited(procs map[int]string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	pause := time.Millisecond
	for {
		for pid, start := range procs {
			if got, exited, err := procStart(pid); err != nil || exited || got != start {
				delete(procs, pid)
			}
		}
		if len(procs) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d killed leftover handler processes have not exited after %v", len(procs), limit)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// isLeftover reports whether pid's environment holds the entry mark and
// names, in EnvOwnerProcess, a grace process that no longer runs (or none).
// A process this user may not read, one that has exited (a zombie has no
// environment any more) and one without the exact entry are not.
func isLeftover(pid int, mark []byte, self string) bool {
	env, err := os.ReadFile(procDir + "/" + strconv.Itoa(pid) + "/environ")
	if err != nil || !bytes.Contains(env, mark) {
		return false
	}
	marked, process := false, ""
	prefix := []byte(EnvOwnerProcess + "=")
	for kv := range bytes.SplitSeq(env, []byte{0}) {
		if bytes.Equal(kv, mark) {
			marked = true
		} else if v, ok := bytes.CutPrefix(kv, prefix); ok {
			process = string(v)
		}
	}
	return marked && !ownerRuns(process, self)
}

// ownerRuns reports whether process, an EnvOwnerProcess value, names a
// process that runs: this one, or one with that PID and start time that
// has not exited.
func ownerRuns(process, self string) bool {
	if process == self {
		return true
	}
	pidText, start, ok := strings.Cut(process, ":")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	got, exited, err := procStart(pid)
	return err == nil && !exited && got == start
}

// procStart returns pid's start time (field 22 of /proc/<pid>/stat, clock
// ticks after boot) and whether it has exited (a zombie).
func procStart(pid int) (start string, exited bool, err error) {
	b, err := os.ReadFile(procDir + "/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false, err
	}
	// The command name, in parentheses, may hold spaces and parentheses;
	// the fields after the last ')' start with field 3, the state.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", false, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", false, fmt.Errorf("/proc/%d/stat: %d fields after the command name, want at least 20", pid, len(f))
	}
	return f[19], f[0] == "Z" || f[0] == "X", nil
}
