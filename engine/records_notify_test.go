package engine

import (
	"strings"
	"testing"
	"time"
)

// A failed notification's record: who is the webhook's notifier, where the
// webhook and its host, why the cause and attempts, how the retries; an
// approval request's is on its intent. A summary counts the failures, by
// kind, and is on no one intent.
func TestNotificationRecord(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	one := NotificationFailure{Webhook: "pager", Host: "hooks.example.com", Kind: "approval_requested", DeliveryID: "dlv_1",
		Subject: "int_1", IntentID: "int_1", Reason: "the receiver answered 503 Service Unavailable", Status: 503, Attempts: 5,
		How: "5 attempts, waiting 2s, 4s, 8s, 16s between them"}
	r := notificationRecord(now, one)
	why := strings.Join(r.Why, " ")
	if r.Who != "notifier:pager" || r.What != WhatNotificationFailed || r.Where != "webhook:pager (hooks.example.com)" ||
		r.IntentID != "int_1" || r.Result != "failed" || r.How != one.How || r.Risk != 0.5 ||
		!strings.Contains(why, "failed after 5 attempts: the receiver answered 503") || r.Context["delivery_id"] != "dlv_1" || r.Context["status"] != 503 {
		t.Fatalf("record: %+v", r)
	}
	dropped := one
	dropped.Kind, dropped.IntentID, dropped.Subject, dropped.Dropped, dropped.Attempts, dropped.Status = "alert", "", "htm/depth", true, 0, 0
	if r := notificationRecord(now, dropped); r.Result != "dropped" || r.IntentID != "" || r.Risk != 0.3 || !strings.Contains(strings.Join(r.Why, " "), "dropped unsent") {
		t.Fatalf("dropped: %+v", r)
	}
	sum := one
	sum.Count, sum.Since, sum.Until, sum.DroppedCount, sum.Unrecorded = 7, now.Add(-time.Minute), now, 2, 3
	sum.ByKind = map[string]int{"alert": 6, "approval_requested": 1}
	r = notificationRecord(now, sum)
	why = strings.Join(r.Why, " ")
	if r.IntentID != "" || r.Context["failed"] != 7 || r.Context["throttled"] != true || r.Context["unrecorded"] != 3 ||
		!strings.Contains(why, "7 notifications to webhook pager failed for good from 2026-03-01T08:59:00Z to 2026-03-01T09:00:00Z (6 alert, 1 approval_requested)") ||
		!strings.Contains(why, "2 of them were dropped unsent") || !strings.Contains(why, "3 more failures were not recorded") {
		t.Fatalf("summary: %+v", r)
	}
}
