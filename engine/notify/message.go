package notify

import (
	"encoding/json"
	"fmt"
	"time"

	"grace/engine/intent"
	"grace/engine/watchdog"
)

// The kinds of notification: the JSON document's "kind", the
// X-Grace-Event header and the metric's kind label.
const (
	KindAlert    = "alert"
	KindApproval = "approval_requested"
	// KindApprovalsPending is sent at start, before the re-announced
	// approval requests, when more intents wait unacknowledged by the
	// webhook than are announced again one by one (Options.ReannounceMax):
	// it says how many.
	KindApprovalsPending = "approvals_pending"
)

// Message is the JSON document POSTed for one notification. ID is the
// delivery's: the same on every attempt, and as X-Grace-Delivery; an
// approval request's is derived from the webhook and the intent, so that
// its re-announcements carry it too (approvalDeliveryID). SentAt
// is when Grace made the notification (the same on every attempt; the
// attempt's own time is X-Grace-Timestamp). Exactly one of Alert and
// Intent is set, as Kind says.
type Message struct {
	Kind   string    `json:"kind"`
	ID     string    `json:"id"`
	SentAt time.Time `json:"sent_at"`
	// Summary says it in one line, for receivers that only show text.
	Summary string `json:"summary"`
	// Reannounced is set on the approval requests (and the
	// approvals_pending summary) sent at start for intents that a
	// previous run of Grace left waiting: they may have been announced
	// before. SubmittedAt is then when the intent was submitted.
	Reannounced bool                  `json:"reannounced,omitempty"`
	SubmittedAt time.Time             `json:"submitted_at,omitzero"`
	Alert       *AlertBody            `json:"alert,omitempty"`
	Intent      *ApprovalBody         `json:"intent,omitempty"`
	Pending     *PendingApprovalsBody `json:"pending,omitempty"`

	// AfterSilence is set on what the end of a silence (EndedSilence, its
	// ID) announces: an alert still firing whose change the silence muted,
	// as "raised" (its changes under the silence were not sent), or the
	// resolution, muted by the silence, of an alert the webhooks were
	// told fired before it, as "resolved".
	AfterSilence bool   `json:"after_silence,omitempty"`
	EndedSilence string `json:"ended_silence,omitempty"`
}

// PendingApprovalsBody is the approvals_pending summary: Total intents
// wait for an operator's approval that the webhook did not acknowledge
// (all that wait, where acknowledgements are not kept), of which the
// newest Announced are announced again one by one; Oldest is when the
// oldest of those was submitted.
type PendingApprovalsBody struct {
	Total     int       `json:"total"`
	Announced int       `json:"announced"`
	Oldest    time.Time `json:"oldest_announced_submitted_at,omitzero"`
}

// intentID is the intent an approval request is about ("" otherwise).
func (m Message) intentID() string {
	if m.Intent != nil {
		return m.Intent.ID
	}
	return ""
}

// AlertBody is an alert as the change that made it left it.
type AlertBody struct {
	// Change is raised, escalated, deescalated or resolved.
	Change string `json:"change"`
	// ID is the alert's, the same for every change of one alert.
	ID string `json:"id"`
	// Key is "<component>/<condition>".
	Key       string `json:"key"`
	Component string `json:"component"`
	Condition string `json:"condition"`
	// Severity is warn or critical (a resolved alert keeps its last); Peak
	// is the highest it reached.
	Severity   string    `json:"severity"`
	Peak       string    `json:"peak"`
	Summary    string    `json:"summary"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Count      int       `json:"count"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	Resolution string    `json:"resolution,omitempty"`
}

// ApprovalBody is an intent waiting for an operator, its payload masked as
// the API shows it.
type ApprovalBody struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Tier      int             `json:"tier"`
	State     string          `json:"state"`
	Priority  int             `json:"priority"`
	CreatedAt time.Time       `json:"created_at"`
	Deadline  time.Time       `json:"deadline,omitzero"`
	Reasoning []string        `json:"reasoning"`
	Payload   json.RawMessage `json:"payload"`
}

// alertMessage is the notification of one alert change (without its
// delivery ID).
func alertMessage(now time.Time, ev watchdog.AlertEvent) Message {
	a := ev.Alert
	body := &AlertBody{
		Change: ev.Change.String(), ID: a.ID, Key: a.Key, Component: a.Component, Condition: a.Condition,
		Severity: a.Severity.String(), Peak: a.Peak.String(), Summary: a.Summary,
		FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, Count: a.Count, ResolvedAt: a.ResolvedAt, Resolution: a.Resolution,
	}
	sum := fmt.Sprintf("[%s] alert %s %s: %s", body.Severity, a.Key, body.Change, a.Summary)
	switch {
	case ev.AfterSilence && ev.Change == watchdog.Resolved:
		sum = fmt.Sprintf("[resolved] alert %s resolved while silence %s muted it (not sent then; silence ended): %s",
			a.Key, ev.EndedSilence, firstNonEmpty(a.Resolution, a.Summary))
	case ev.AfterSilence:
		sum = fmt.Sprintf("[%s] alert %s still firing as silence %s ended (firing since %s, not sent while silenced): %s",
			body.Severity, a.Key, ev.EndedSilence, a.FirstSeen.UTC().Format(time.RFC3339), a.Summary)
	case ev.Change == watchdog.Resolved:
		sum = fmt.Sprintf("[resolved] alert %s: %s", a.Key, firstNonEmpty(a.Resolution, a.Summary))
	}
	return Message{Kind: KindAlert, SentAt: now, Summary: sum, Alert: body, AfterSilence: ev.AfterSilence, EndedSilence: ev.EndedSilence}
}

// approvalMessage is the notification of an intent that waits for an
// operator's approval (without its delivery ID). in is masked already.
func approvalMessage(now time.Time, in intent.Intent) Message {
	reasoning := in.Decision.Reasoning
	if reasoning == nil {
		reasoning = []string{}
	}
	payload := in.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("{}")
	}
	sum := fmt.Sprintf("Tier %d intent %s (%s from %s) waits for an operator's approval", in.Tier, in.ID, in.Type, in.Actor)
	if !in.Deadline.IsZero() {
		sum += " until " + in.Deadline.UTC().Format(time.RFC3339)
	}
	return Message{Kind: KindApproval, SentAt: now, Summary: sum, Intent: &ApprovalBody{
		ID: in.ID, Type: in.Type, Actor: in.Actor, Tier: in.Tier, State: string(in.State), Priority: in.Priority,
		CreatedAt: in.CreatedAt, Deadline: in.Deadline, Reasoning: reasoning, Payload: payload,
	}}
}

// reannouncement is the approval request of an intent that a previous run
// left waiting, sent again at start.
func reannouncement(now time.Time, in intent.Intent) Message {
	m := approvalMessage(now, in)
	m.Reannounced, m.SubmittedAt = true, in.CreatedAt
	m.Summary = fmt.Sprintf("Tier %d intent %s (%s from %s), submitted %s, still waits for an operator's approval (announced again: Grace restarted)",
		in.Tier, in.ID, in.Type, in.Actor, in.CreatedAt.UTC().Format(time.RFC3339))
	if !in.Deadline.IsZero() {
		m.Summary += "; it expires " + in.Deadline.UTC().Format(time.RFC3339)
	}
	return m
}

// pendingSummary is the approvals_pending message: total wait, of which
// the announced newest are announced again one by one (oldest first).
func pendingSummary(now time.Time, total int, announced []intent.Intent) Message {
	body := &PendingApprovalsBody{Total: total, Announced: len(announced)}
	if len(announced) > 0 {
		body.Oldest = announced[0].CreatedAt
	}
	return Message{Kind: KindApprovalsPending, SentAt: now, Reannounced: true, Pending: body,
		Summary: fmt.Sprintf("%d intents wait for an operator's approval since before Grace restarted; the newest %d are announced again one by one ('grace intent list --state pending_approval' lists them all)",
			total, len(announced))}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
