package dist

import (
	"fmt"
	"time"

	"grace/engine/intent"
)

// Stream and subject names.
const (
	// StreamName is the JetStream work-queue stream of released tasks.
	StreamName = "GRACE_TASKS"
	// Bands is the number of priority bands (intent priorities 0..9).
	Bands = 10

	subjectTasks     = "grace.tasks."
	subjectClaim     = "grace.ctl.claim"
	subjectResult    = "grace.ctl.result"
	subjectRelease   = "grace.ctl.release"
	subjectCancel    = "grace.ctl.cancel"
	subjectHeartbeat = "grace.workers.heartbeat"
	subjectJoin      = "grace.ctl.join"
	subjectPlane     = "grace.ctl.plane"
)

// TaskSubject returns the subject of a task of priority p (clamped to
// 0..9): grace.tasks.p<p>.
func TaskSubject(p int) string { return fmt.Sprintf("%sp%d", subjectTasks, min(max(p, 0), Bands-1)) }

// consumerName is the durable pull consumer of band b.
func consumerName(b int) string { return fmt.Sprintf("grace-p%d", b) }

// attemptKey names one attempt: the message's de-dup ID.
func attemptKey(id string, attempt int) string { return fmt.Sprintf("%s#%d", id, attempt) }

// taskMsg is a task message's body.
type taskMsg struct {
	Intent    intent.Intent `json:"intent"`
	TimeoutMS int64         `json:"timeout_ms"`
}

// claimReq asks the control plane for the right to run an attempt.
type claimReq struct {
	ID        string `json:"id"`
	Attempt   int    `json:"attempt"`
	Worker    string `json:"worker"`
	Host      string `json:"host"`
	Instance  string `json:"instance,omitempty"`
	Delivered uint64 `json:"delivered"`
}

// claimReply answers a claimReq. Stale: the attempt awaits no result any
// more (terminate the message); NameTaken: another live worker process
// holds the claimant's name (give the message back and stop); otherwise,
// not Granted: a live worker holds it (try again later).
type claimReply struct {
	Granted   bool   `json:"granted"`
	Stale     bool   `json:"stale,omitempty"`
	NameTaken bool   `json:"name_taken,omitempty"`
	Token     uint64 `json:"token,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// resultReq is a worker's outcome for an attempt it holds by Token.
type resultReq struct {
	ID        string `json:"id"`
	Attempt   int    `json:"attempt"`
	Worker    string `json:"worker"`
	Host      string `json:"host"`
	Token     uint64 `json:"token"`
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
	TookMS    int64  `json:"took_ms"`
	// Beat is the Seq of the worker's latest heartbeat when it sent the
	// result: every heartbeat listing the attempt running has a Seq up to
	// it (0 from a worker that numbers none).
	Beat uint64 `json:"beat,omitempty"`
	// Instance is the worker process's (heartbeat.Instance).
	Instance string `json:"instance,omitempty"`
}

// resultReply answers a resultReq (release requests too).
type resultReply struct {
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"`
}

// cancelMsg asks whoever runs the attempt to stop it; with Instance, only
// that worker process (another may hold the attempt's claim now).
type cancelMsg struct {
	ID       string `json:"id"`
	Attempt  int    `json:"attempt"`
	Instance string `json:"instance,omitempty"`
}

// heartbeat is a worker's periodic announcement. Leaving says it is
// shutting down cleanly. Instance tells apart two processes that use one
// name: it is new in every process.
type heartbeat struct {
	Worker    string    `json:"worker"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Instance  string    `json:"instance,omitempty"`
	Slots     int       `json:"slots"`
	Running   []string  `json:"running,omitempty"` // attempt keys
	Completed uint64    `json:"completed"`
	Failed    uint64    `json:"failed"`
	Leaving   bool      `json:"leaving,omitempty"`
	At        time.Time `json:"at"`
	// Seq numbers the process's heartbeats from 1 (0 from a worker that
	// numbers none): one delivered late, after a result it preceded
	// (the control plane stalled), is told from a current one.
	Seq uint64 `json:"seq,omitempty"`
}

// joinReq is a worker process asking, before it takes any task, to run
// under its name.
type joinReq struct {
	Worker   string `json:"worker"`
	Host     string `json:"host"`
	PID      int    `json:"pid"`
	Slots    int    `json:"slots"`
	Instance string `json:"instance"`
}

// joinReply answers a joinReq. Refused, it names the live process that
// holds the name, and Window is how long a silent holder stays live.
type joinReply struct {
	Granted  bool   `json:"granted"`
	Reason   string `json:"reason,omitempty"`
	Host     string `json:"host,omitempty"`
	PID      int    `json:"pid,omitempty"`
	WindowMS int64  `json:"window_ms,omitempty"`
}

// planeInfo is what a control plane answers on grace.ctl.plane: who serves
// this NATS.
type planeInfo struct {
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	API      string    `json:"api,omitempty"`
	Instance string    `json:"instance"`
	Started  time.Time `json:"started"`
}
