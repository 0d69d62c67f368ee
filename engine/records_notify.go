package engine

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"grace/engine/clarity"
)

// WhatNotificationFailed names the record of a webhook notification that
// failed for good (refused, out of attempts, or dropped because its
// webhook's queue was full), or of several such failures summarised.
const WhatNotificationFailed = "notification_failed"

// NotificationFailure is a webhook notification that failed for good, or
// (Count > 1) a summary of Count of them from one webhook, as package
// engine/notify reports it for the record. It never holds the webhook's
// URL (which may hold a secret), its key or a signature.
type NotificationFailure struct {
	// Webhook is the webhook's name, Host its URL's host (and port).
	Webhook, Host string
	// Kind is the notification's kind (alert, approval_requested, …),
	// DeliveryID its X-Grace-Delivery, Subject the alert key or intent ID
	// it was about: of the last one, for a summary.
	Kind, DeliveryID, Subject string
	// IntentID is the intent an approval request was about ("" for an
	// alert, and for a summary).
	IntentID string
	// Reason is why it failed (the receiver's answer or the error);
	// Status is the receiver's HTTP status, 0 when it gave none.
	Reason string
	Status int
	// Attempts is how many requests were made (0: dropped unsent), and
	// How says how they were made (the retries and the waits between).
	Attempts int
	How      string
	// Dropped is set when it was never sent: the webhook's queue was full.
	Dropped bool

	// Count is how many failures this record stands for (0 or 1: this
	// one). For a summary, Since and Until are the first and the last,
	// DroppedCount how many of them were dropped unsent, ByKind how many
	// of each kind, and Unrecorded how many more were lost on the way to
	// the record (the notifier's record queue was full).
	Count        int
	Since, Until time.Time
	DroppedCount int
	ByKind       map[string]int
	Unrecorded   int
}

// RecordNotificationFailure puts f on the record (narrative, clarity row
// and audit entry), behind every change queued before it, without waiting
// for it to be durable; a write that fails is logged. It may wait while
// the store's queue is full: the notifier calls it from a goroutine of its
// own, never from one that delivers or that the engine waits on.
func (e *Engine) RecordNotificationFailure(f NotificationFailure) {
	e.note(notificationRecord(e.clock.Now(), f))
}

// notificationRecord narrates f: who is the webhook's notifier, where the
// webhook and its host, why the cause, how the attempts.
func notificationRecord(now time.Time, f NotificationFailure) clarity.Record {
	who := clip("notifier:"+f.Webhook, maxActorLen)
	where := "webhook:" + f.Webhook
	if f.Host != "" {
		where += " (" + f.Host + ")"
	}
	ctx := map[string]any{"webhook": f.Webhook, "host": f.Host, "kind": f.Kind, "delivery_id": f.DeliveryID,
		"about": f.Subject, "attempts": f.Attempts, "reason": clip(f.Reason, 500)}
	if f.Status != 0 {
		ctx["status"] = f.Status
	}
	result := "failed"
	if f.Dropped {
		result = "dropped"
		ctx["dropped"] = true
	}
	var why []string
	intentID := f.IntentID
	if f.Count > 1 {
		intentID, result = "", "failed"
		since, until := f.Since.UTC().Format(time.RFC3339), f.Until.UTC().Format(time.RFC3339)
		why = append(why, fmt.Sprintf("%d notifications to webhook %s failed for good from %s to %s (%s); summarised, not recorded one by one",
			f.Count, f.Webhook, since, until, kindCounts(f.ByKind)))
		if f.DroppedCount > 0 {
			why = append(why, fmt.Sprintf("%d of them were dropped unsent: the webhook's queue was full", f.DroppedCount))
		}
		why = append(why, fmt.Sprintf("The last (%s %s, delivery %s): %s", f.Kind, f.Subject, f.DeliveryID, f.Reason))
		ctx["failed"], ctx["since"], ctx["until"], ctx["throttled"] = f.Count, since, until, true
		ctx["dropped_count"], ctx["by_kind"] = f.DroppedCount, f.ByKind
		delete(ctx, "dropped")
	} else {
		what := fmt.Sprintf("The %s notification about %s (delivery %s) to webhook %s", f.Kind, f.Subject, f.DeliveryID, f.Webhook)
		if f.Dropped {
			why = append(why, what+" was dropped unsent: "+f.Reason)
		} else {
			why = append(why, fmt.Sprintf("%s failed after %d attempts: %s", what, f.Attempts, f.Reason))
		}
	}
	if f.Unrecorded > 0 {
		why = append(why, fmt.Sprintf("%d more failures were not recorded: the notifier's record queue was full", f.Unrecorded))
		ctx["unrecorded"] = f.Unrecorded
	}
	why = append(why, "An operator who relies on this webhook was not told; the console, grace health and grace intent list show what it was about")
	r := rec(now, who, WhatNotificationFailed, where, clip(f.How, 300), result, intentID, why, ctx)
	r.Risk = 0.3
	if f.IntentID != "" || f.ByKind["approval_requested"] > 0 {
		r.Risk = 0.5 // an approval may wait unseen
	}
	return r
}

// kindCounts is "2 alert, 1 approval_requested".
func kindCounts(by map[string]int) string {
	kinds := make([]string, 0, len(by))
	for k := range by {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", by[k], k)
	}
	return strings.Join(parts, ", ")
}
