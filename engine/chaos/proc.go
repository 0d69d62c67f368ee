package chaos

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// A file that announces a process by its ID (a chaos run in progress,
// see service_recover.go and grace chaos halt) may outlive the process,
// and the ID may then be given to a later, unrelated process. StartedAfter
// tells the two apart by the process's start time.

// announceSlack allows for the precision of a process's start time (the
// boot time is known to the second).
const announceSlack = 2 * time.Second

// StartedAfter reports whether the process pid started after announced
// (give or take announceSlack): then it is not the process a file written
// at announced names. Where the start time cannot be read (no /proc, or
// the process has gone) it reports false.
func StartedAfter(pid int, announced time.Time) bool {
	started, ok := processStart(pid)
	return ok && started.After(announced.Add(announceSlack))
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's
// start time (100 on every Linux port).
const clockTicks = 100

// processStart is when pid started, from /proc (Linux); ok is false where
// there is no /proc to ask.
func processStart(pid int) (time.Time, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return time.Time{}, false
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the start time is field 22, the 20th after it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return time.Time{}, false
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * (time.Second / clockTicks)), true
}

// bootTime is when the machine booted, from /proc/stat's btime.
func bootTime() (time.Time, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			s, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(s, 0), true
		}
	}
	return time.Time{}, false
}
