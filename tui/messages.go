package tui

import (
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/intent"
)

// screenID names a screen, or another component that can own an async
// request. Results carry the id of whoever asked and are routed there, not
// to whichever screen has focus (gh-dash: messages know their owner).
type screenID int

// The screens, and the popup (an owner but not a screen).
const (
	screenDashboard screenID = iota + 1
	screenApprovals
	screenNarratives
	screenAlerts
	screenChaos
	ownerPopup screenID = 100
	// ownerCommand is the command line's ":cancel ID" and ":retry ID",
	// answered where they were typed.
	ownerCommand screenID = 101
)

// String names the owner, for logs.
func (id screenID) String() string {
	switch id {
	case screenDashboard:
		return "dashboard"
	case screenApprovals:
		return "approvals"
	case screenNarratives:
		return "narratives"
	case screenAlerts:
		return "alerts"
	case screenChaos:
		return "chaos"
	case ownerPopup:
		return "popup"
	case ownerCommand:
		return "command line"
	}
	return "unknown"
}

// tickMsg is the refresh clock: one per Options.Refresh.
type tickMsg struct{ at time.Time }

// snapshotMsg carries a fresh engine snapshot, or, from a remote engine
// that could not be asked, the error (snap is then the last one, stale).
type snapshotMsg struct {
	snap engine.Snapshot
	err  error
}

// subscribedMsg carries the event channel once the subscription is open.
type subscribedMsg struct{ ch <-chan engine.Event }

// eventsMsg carries one or more engine events that arrived together.
type eventsMsg struct{ events []engine.Event }

// eventsClosedMsg says the engine closed the event stream.
type eventsClosedMsg struct{}

// pendingMsg is the result of fetching the approvals list for owner.
type pendingMsg struct {
	owner screenID
	items []intent.Intent
	err   error
}

// reviewMsg is the result of fetching the Tier 1 review list for owner:
// the finished intents awaiting review, and how many more are still
// running (they can be reviewed once they finish).
type reviewMsg struct {
	owner   screenID
	items   []intent.Intent
	running int
	// capped is set when the engine listed reviewLimit intents: there may
	// be more, older ones.
	capped bool
	err    error
}

// searchMsg is one page of narrative search results for owner. seq names
// the search it answers, so a page of an abandoned search is dropped; more
// says whether the page was a continuation (appended) or a first page.
type searchMsg struct {
	owner   screenID
	seq     int
	more    bool
	newer   bool // the matches newer than the top result (following)
	limit   int
	entries []clarity.Entry
	// resume is where the page stopped early, at the engine's read budget
	// (clarity.Page.ResumeBefore); 0 when it did not.
	resume int64
	at     time.Time
	err    error
}

// storyMsg is an intent's whole story, oldest first, with the intent
// itself when the engine still has it.
type storyMsg struct {
	owner    screenID
	seq      int
	intentID string
	intent   *intent.Intent
	entries  []clarity.Entry
	capped   bool
	err      error
}

// verifyMsg is the outcome of an audit chain verification.
type verifyMsg struct {
	owner screenID
	rep   engine.AuditReport
	took  time.Duration
	at    time.Time
	err   error
}

// openStoryMsg asks the root to show intent's story on the Narratives
// screen.
type openStoryMsg struct{ intentID string }

// commandLineMsg opens the command line with line typed in, for the
// operator to finish (a reason) and run.
type commandLineMsg struct{ line string }

// decision is what an operator decided about an intent: approve or deny a
// pending Tier 0 intent, acknowledge or flag a finished Tier 1 one.
type decision int

const (
	decisionApprove decision = iota + 1
	decisionDeny
	decisionAcknowledge
	decisionFlag
	decisionCancel // withdraw an intent that has not finished (":cancel ID")
	decisionRetry  // submit an ended intent (failed, cancelled, expired, shed) again, as a new one (":retry ID")
)

// verb is the decision's name in status lines ("approve failed: …").
func (d decision) verb() string {
	switch d {
	case decisionDeny:
		return "deny"
	case decisionAcknowledge:
		return "acknowledge"
	case decisionFlag:
		return "flag"
	case decisionCancel:
		return "cancel"
	case decisionRetry:
		return "retry"
	}
	return "approve"
}

// past is the decision's past tense ("approved int_…").
func (d decision) past() string {
	switch d {
	case decisionDeny:
		return "denied"
	case decisionAcknowledge:
		return "acknowledged"
	case decisionFlag:
		return "flagged"
	case decisionCancel:
		return "cancelled"
	case decisionRetry:
		return "retried"
	}
	return "approved"
}

// doing is the decision in progress ("approving int_…").
func (d decision) doing() string {
	switch d {
	case decisionDeny:
		return "denying"
	case decisionAcknowledge:
		return "acknowledging"
	case decisionFlag:
		return "flagging"
	case decisionCancel:
		return "cancelling"
	case decisionRetry:
		return "retrying"
	}
	return "approving"
}

// needsReason reports whether the decision asks for a reason (deny,
// cancel) or a note (flag) instead of a (y/N).
func (d decision) needsReason() bool {
	return d == decisionDeny || d == decisionFlag || d == decisionCancel || d == decisionRetry
}

// onCommandLine reports whether the decision is typed on the command line
// (":cancel ID", ":retry ID") rather than made on a listed intent.
func (d decision) onCommandLine() bool { return d == decisionCancel || d == decisionRetry }

// isReview reports whether the decision is a Tier 1 review.
func (d decision) isReview() bool { return d == decisionAcknowledge || d == decisionFlag }

// decidedMsg is the result of a decision request made by owner.
type decidedMsg struct {
	owner    screenID
	decision decision
	id       string
	intent   intent.Intent
	existing bool // a retry asked again: intent is the first retry
	err      error
}
