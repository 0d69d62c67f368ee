// Package notify tells webhooks what an operator who is not at the console
// must learn: an alert was raised, escalated, de-escalated or resolved, and
// an intent waits for an operator's approval.
//
// A Notifier follows the engine's event stream (Source) on one goroutine
// that only filters and enqueues, so it never falls behind the engine; each
// webhook has a bounded queue (a notification that finds it full is dropped
// and counted) and a goroutine of its own that POSTs one JSON document per
// notification, in order, retrying network errors, 5xx and 429 answers with
// exponential backoff (honouring Retry-After up to a minute) and giving up
// at once on other answers. Every attempt of a delivery carries the same
// X-Grace-Delivery ID (the body's "id"), so that a receiver can drop
// repeats; with a key, each is signed: X-Grace-Signature is "sha256=" and
// the hex HMAC-SHA256 of X-Grace-Timestamp, ".", and the body.
//
// Outcomes are counted per webhook, kind and result (Metrics, exposed as
// grace_notifications_total on /metrics); a delivery that fails after its
// last attempt is logged once at WARN, without the webhook's URL (it may
// hold a secret) and never with the key or the signature. A delivery that
// fails for good, or is dropped because its queue is full, also goes on
// the 5W1H record (a Recorder: the engine) from a goroutine of its own,
// so that recording never holds up a delivery: the first of a webhook's
// failures at once, those within RecordEvery after a record summarised on
// one record with their count.
//
// Intents that a previous run left waiting for approval (their
// notifications were queued in memory, and lost with it) are announced
// again at start, marked reannounced, to each webhook as far as it has
// not acknowledged them. Grace remembers which approval requests each
// webhook acknowledged (answered 2xx), by the webhook's name with a tag
// of its URL and the intent's ID, for as long as the intent waits (an
// Acknowledgements: the engine, whose store keeps them, and forgets those
// of a webhook no longer configured): a webhook is told again of the
// intents it did not acknowledge (all of them for one added since, or
// pointed at another URL; the one whose delivery
// failed, or was lost as the process stopped), the newest ReannounceMax,
// after one approvals_pending message with how many it did not
// acknowledge when there are more. An acknowledgement is handed over to
// a goroutine of its own, as a failure is for the record, so that keeping
// it never holds up a delivery; one that cannot be kept (its bounded
// queue full, or the store failing) costs at worst one more announcement
// at the next start, never a missed one. Acknowledgements are not on the
// 5W1H record: a delivery is no decision, and the record says what became
// of the intent. Where none are kept (a source that is only a Waiting),
// every start announces every intent waiting to every webhook again. So
// that a receiver told twice is not paged twice, an approval request's
// delivery ID is not random but derived from the webhook's name and the
// intent's ID ("dlv_" and 20 hex digits of their SHA-256): the
// re-announcement of an intent carries the X-Grace-Delivery of its first
// announcement, and a receiver that drops repeats by it (or maps it to its
// own deduplication key) pages once per intent and webhook. Its body
// differs (reannounced, sent_at): a receiver that keeps the first it got
// loses nothing. Alerts, and the approvals_pending summary, are new
// notifications each time, with random IDs.
//
// An alert change that an operator's silence mutes (its event carries
// the silence: watchdog.Alert.Silenced) is not sent: the watchdog still
// raises and records it. When the silence ends (and no other silence
// mutes the alert) the engine announces what the webhooks missed, once,
// marked after_silence with ended_silence naming the silence:
//   - an alert still firing whose change the silence muted (raised,
//     escalated or de-escalated under it: what the webhooks were last
//     told is not what fires now), as one "raised" notification, sent to
//     each webhook the alert reached the min_severity of (its peak, as
//     for a resolution, which follows in due course); an alert that did
//     not change under the silence is not sent again;
//   - the resolution of an alert the webhooks were told fired before the
//     silence, resolved under it, as one "resolved" notification, sent to
//     each webhook whose min_severity the peak they were told of before
//     the silence reached (AlertEvent.ToldPeak): the webhooks that were
//     sent the alert. An alert raised and resolved under the silence
//     sends nothing.
//
// Waits use the injected clock, so tests run the backoff without sleeping.
// On shutdown a request in flight gets a short grace, and what was still
// queued is logged as a count.
package notify
