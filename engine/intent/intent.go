// Package intent defines what an agent asks Grace to do, the states an
// intent moves through, and the store the engine keeps them in.
package intent

import (
	"encoding/json"
	"strings"
	"time"
)

// State is where an intent stands in its life.
type State string

// The states. Terminal states never change again.
const (
	StatePendingApproval State = "pending_approval" // Tier 0: waits for a human
	StateQueued          State = "queued"           // in the HTM queue (or waiting out a retry backoff)
	StateRunning         State = "running"          // dispatched to a worker
	StateCompleted       State = "completed"        // terminal: handler succeeded
	StateFailed          State = "failed"           // terminal: retries exhausted
	StateDenied          State = "denied"           // terminal: a human or the hub said no
	StateExpired         State = "expired"          // terminal: approval deadline passed
	StateShed            State = "shed"             // terminal: dropped by load shedding
	StateCancelled       State = "cancelled"        // terminal: withdrawn before it finished (by an operator or its submitter)
)

// States lists every state in display order.
var States = []State{StatePendingApproval, StateQueued, StateRunning, StateCompleted, StateFailed, StateDenied, StateExpired, StateShed, StateCancelled}

// Terminal reports whether s is a final state.
func (s State) Terminal() bool {
	switch s {
	case StateCompleted, StateFailed, StateDenied, StateExpired, StateShed, StateCancelled:
		return true
	}
	return false
}

// Valid reports whether s is one of the known states.
func (s State) Valid() bool {
	for _, k := range States {
		if k == s {
			return true
		}
	}
	return false
}

// Submission is an intent as an agent submits it, before validation.
type Submission struct {
	Type           string          `json:"type"`
	Actor          string          `json:"actor"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	Context        map[string]any  `json:"context,omitempty"`
	Priority       int             `json:"priority"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// NotBefore, when set, schedules the intent: it is governed, stored
	// and queued (or held for its approval) at once, and dispatched no
	// earlier than this. A time not after the submission means now. An
	// idempotency key's resubmission is not compared on it: the schedule
	// is spent once the intent runs.
	NotBefore time.Time `json:"not_before,omitzero"`
}

// Vote is one voter's ballot in a unified-logic-hub vote.
type Vote struct {
	Voter   string `json:"voter"`
	Approve bool   `json:"approve"`
	Reason  string `json:"reason"`
}

// Decision is the governance router's verdict, with the seed's field names.
type Decision struct {
	Approved      bool     `json:"approved"`
	AutonomyTier  int      `json:"autonomy_tier"`
	RequiresVote  bool     `json:"requires_vote"`
	RequiresHuman bool     `json:"requires_human"`
	Alignment     float64  `json:"alignment"`
	Reasoning     []string `json:"reasoning"`
	RoutedTo      string   `json:"routed_to"`
	Votes         []Vote   `json:"votes,omitempty"`
}

// Intent is a submitted, validated intent and everything decided about it.
type Intent struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Actor          string          `json:"actor"`
	Payload        json.RawMessage `json:"payload"`
	Context        map[string]any  `json:"context,omitempty"`
	Priority       int             `json:"priority"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	State          State           `json:"state"`
	Tier           int             `json:"tier"`
	Decision       Decision        `json:"decision"`
	Attempts       int             `json:"attempts"`
	LastError      string          `json:"last_error,omitempty"`
	Worker         string          `json:"worker,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	// NotBefore delays dispatch of a queued intent: its schedule (Submission.NotBefore), or a retry's backoff.
	NotBefore time.Time `json:"not_before,omitzero"`
	// Deadline is when a pending approval expires.
	Deadline time.Time `json:"deadline,omitzero"`
	// DecidedBy and DecisionReason name who approved or denied, and why.
	DecidedBy      string `json:"decided_by,omitempty"`
	DecisionReason string `json:"decision_reason,omitempty"`
	// Reviewed marks a Tier 1 intent as reviewed after the fact.
	Reviewed bool `json:"reviewed,omitempty"`
}

// routedByHub is the unified logic hub's name (governance.RouteHub): on an
// intent pending approval it says the hub sent it there, not that anyone
// approved it.
const routedByHub = "unified_logic_hub"

// FirstApprover names the operator whose approval an intent pending
// approval already holds under the two-person rule (it waits for a second,
// different operator); "" when it holds none. DecidedBy holds that first
// approval until the intent is decided.
func (in Intent) FirstApprover() string {
	if in.State != StatePendingApproval || in.DecidedBy == routedByHub {
		return ""
	}
	return in.DecidedBy
}

// CanonicalID is s as an intent's ID is written, when s is one typed in
// another case ("INT_01m8…" is "int_01M8…": Crockford base32 is read
// without regard to case); any other s is returned as it is.
func CanonicalID(s string) string {
	if len(s) != 30 || !strings.EqualFold(s[:4], "int_") {
		return s
	}
	if c := "int_" + strings.ToUpper(s[4:]); IsID(c) {
		return c
	}
	return s
}

// IsID reports whether s has the shape of an intent's ID: "int_" and a
// ULID of 26 Crockford base32 characters (upper case).
func IsID(s string) bool {
	rest, ok := strings.CutPrefix(s, "int_")
	if !ok || len(rest) != 26 {
		return false
	}
	for _, r := range rest {
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", r) {
			return false
		}
	}
	return true
}
