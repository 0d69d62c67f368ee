package tui

import (
	"time"

	"grace/engine"
	"grace/engine/intent"
)

// screenID names a screen, or another component that can own an async
// request. Results carry the id of whoever asked and are routed there, not
// to whichever screen has focus (gh-dash: messages know their owner).
type screenID int

// The screens, in tab order, and the popup (an owner but not a screen).
const (
	screenDashboard screenID = iota + 1
	screenApprovals
	ownerPopup screenID = 100
)

// String names the owner, for logs.
func (id screenID) String() string {
	switch id {
	case screenDashboard:
		return "dashboard"
	case screenApprovals:
		return "approvals"
	case ownerPopup:
		return "popup"
	}
	return "unknown"
}

// tickMsg is the refresh clock: one per Options.Refresh.
type tickMsg struct{ at time.Time }

// snapshotMsg carries a fresh engine snapshot.
type snapshotMsg struct{ snap engine.Snapshot }

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

// decision is what an operator decided about a pending intent.
type decision int

const (
	decisionApprove decision = iota + 1
	decisionDeny
)

// verb is the decision's name in status lines ("approve failed: …").
func (d decision) verb() string {
	if d == decisionDeny {
		return "deny"
	}
	return "approve"
}

// past is the decision's past tense ("approved int_…").
func (d decision) past() string {
	if d == decisionDeny {
		return "denied"
	}
	return "approved"
}

// decidedMsg is the result of an approve or deny request made by owner.
type decidedMsg struct {
	owner    screenID
	decision decision
	id       string
	intent   intent.Intent
	err      error
}
