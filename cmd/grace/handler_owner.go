package main

import (
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"grace/engine/worker"
)

// claimHandlerOwner marks the exec handlers this process runs as owner's
// and kills what the handlers of an earlier grace process with the same
// owner, killed outright, left running (worker.ClaimOwner; Linux only),
// logging what it killed. It returns how many processes that was. A scan
// that fails is logged and the process starts anyway: it is no worse off
// than without the scan.
func claimHandlerOwner(owner string, log *slog.Logger) int {
	killed, err := worker.ClaimOwner(owner)
	if killed > 0 {
		log.Warn("killed processes left running by the exec handlers of a grace process that was killed outright, before their tasks run again",
			"killed", killed, "owner", owner)
	}
	if err != nil {
		log.Warn("leftover exec handler processes: not all could be looked for or killed; a task that was running may run twice at once",
			"owner", owner, "err", err)
	}
	return killed
}

// storeOwner is the owner of the handlers that an engine on the database
// at path runs (grace serve, the console): the database's absolute path,
// with symbolic links resolved, so that every way of naming it is one
// owner. Only the process holding the database's lock runs them.
func storeOwner(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return "store " + path
}

// workerOwner is the owner of the handlers that grace workers of the
// control plane at natsURL run (a comma-separated list for a cluster),
// without credentials. It is not the worker's name: the default name changes
// with every process, and the tasks a dead worker left running are rerun by
// any worker of the plane, so any worker starting on this host kills them.
// Those of a worker that runs are never touched (worker.ClaimOwner).
func workerOwner(natsURL string) string {
	parts := strings.Split(natsURL, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil {
			u.User = nil // a user, password or token (nats://TOKEN@host)
			p = u.String()
		} else {
			p = "(unparsable URL)"
		}
		parts[i] = p
	}
	return "grace worker of nats " + strings.Join(parts, ",")
}
