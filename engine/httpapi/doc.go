// Package httpapi serves the engine's operator API as JSON over HTTP and
// provides a client for it.
//
// NewHandler exposes an engine.OperatorAPI on the routes of DESIGN.md, with
// the roles that may call each:
//
//	POST /v1/intents                 agent, operator   submit → 202 {id, state, decision, existing}; "not_before" (RFC 3339) schedules it
//	POST /v1/intents/batch           agent, operator   {intents: [≤1000 submissions]} → 200 {results (one each, in order), accepted, refused}
//	                                                   with "atomic": true, all or none: else batch_refused (the first refused one's status) with results
//	POST /v1/intents/route           anyone            the decision only; nothing stored
//	GET  /v1/intents/{id}?wait=D     anyone            one intent (an agent: its own); with wait (up to 60s), held until it has finished
//	GET  /v1/intents?state=S&before=ID anyone          intents, newest first, paged (an agent: its own); also actor=, type=, since=,
//	                                                   tier=, unreviewed=true, unretried=true (those no retry was submitted for)
//	POST /v1/intents/{id}/approve    operator          {reason}
//	POST /v1/intents/{id}/deny       operator          {reason} (required)
//	POST /v1/intents/{id}/review     operator          {note, flag}: Tier 1 after-the-fact review (not by its submitter: 403 self_review; its flag is allowed and leaves it unreviewed)
//	POST /v1/intents/{id}/cancel     agent, operator   {reason} (required): a pending, queued or running intent is withdrawn (a running one's handler is told to stop; an agent: its own)
//	POST /v1/intents/{id}/retry      operator          {reason} (required): a failed, cancelled, expired or shed intent submitted again as a new intent, governed afresh (202, as a submission); not a denied one (409 not_retryable)
//	GET  /v1/narratives?q=&actor=&action=&since=&limit=&intent=
//	                                 anyone            (an agent: intent= one of its own); a q with no letters or digits ("!!!", "*"): 422 no_words
//	GET  /v1/telemetry               viewer, operator  the engine's live snapshot
//	GET  /v1/alerts?firing=          viewer, operator  {alerts}: the watchdog's alert history (newest 100), or those firing;
//	                                                   a firing alert an active silence mutes has "silenced": {id, by, ends_at}
//	POST /v1/alerts/silences         operator          {match, for | until, reason} → 201 the silence: webhooks are not told of the matching
//	                                                   alerts until it ends (match "component/condition", "component/*", "*/condition" or "*";
//	                                                   for "2h", "90m", "7d" or until RFC 3339, 1 minute to 30 days; a bad one: 4xx naming the field;
//	                                                   engine.MaxActiveSilences active already: 409 too_many_silences)
//	GET  /v1/alerts/silences?all=    viewer, operator  {silences}: the active ones, or with all=true the newest 100 of every state
//	                                                   (an ended silence is kept 30 days after it ended)
//	POST /v1/alerts/silences/{id}/end operator         {reason} (required) → the silence ended; unknown id 404; ended or expired 409 silence_ended
//	GET  /v1/scheduler               viewer, operator  {paused, pause: {by, reason, since}, paused_types, paused_actors, queue_depth, …}
//	POST /v1/scheduler/pause         operator          {reason} (required): nothing is dispatched until resumed (intake goes on; across restarts);
//	                                                   with type T, or actor A (not both: 400 conflicting_fields), only T's or A's intents wait
//	POST /v1/scheduler/resume        operator          {reason, type?, actor?}: dispatching again
//	GET  /v1/events                  anyone            server-sent events (an agent: its own intents)
//	GET  /v1/audit/verify            viewer, operator  the audit chain recomputed
//	GET  /v1/whoami                  anyone            the caller's identity and role
//	POST /v1/chaos/runs              operator          {scenarios, all, category, difficulty, live} → 202 the run
//	GET  /v1/chaos/runs/{id}         viewer, operator  one run, with its progress while it runs
//	GET  /v1/chaos/runs?limit=N      viewer, operator  stored runs, newest first
//	POST /v1/chaos/halt              operator          {reason} → what was halted
//	GET  /v1/chaos/scenarios         viewer, operator  the scenario library with each scenario's standing
//	GET  /v1/chaos/status            viewer, operator  resilience score, loop state, run in progress, findings
//	GET  /healthz   GET /readyz      unauthenticated probes (and GET /metrics); another method on them is a 405, token or not
//
// Every route but the probes needs "Authorization: Bearer <token>". The
// token names an identity (Options.Identities, from the identities config
// section, stored as SHA-256 hashes): an agent, a viewer or an operator.
// With no identities configured, the generated local token is an operator
// named "local" whose requests may name the person at the keyboard with the
// X-Grace-Operator header. A configured identity is always itself: its
// submissions carry its name as the actor (naming another actor is refused)
// and its approvals its name as the operator. An agent that names another
// actor's intent (to read it, its story, page from it or cancel it) is
// answered exactly as for an ID that names no intent (404, or 400 for a
// paging cursor), so that it cannot learn which IDs exist; the refusal
// record says what really happened.
//
// Errors have one stable shape, {"error": {"code", "message", "field"}},
// with a "problems" list beside it for a rejected submission (422). A
// request refused here (no or unknown token 401, a role without the right
// 403, a malformed, oversized or mistyped body 400/413, an unknown route)
// never reaches the engine, changes nothing, and goes on the record as a
// request_refused narrative (Options.Refusals), within the engine's
// budgets (an identity's own; unauthenticated ones per address and in
// all, summarised past them: engine/refusalbudget.go). The engine records the
// refusals it makes itself (intent_rejected, approval_refused,
// idempotency_conflict). A token whose identity's expires has passed is a
// 401 token_expired, recorded with the identity's name; an event stream
// ends when its token expires. An idempotency key resent with the same
// submission answers 200 with the original (existing: true); with a
// different one, 409 idempotency_conflict, nothing stored.
//
// GET /v1/intents pages with before=ID (the last ID of the previous page).
// GET /v1/events numbers its events ("epoch-seq" ids): a client that
// reconnects with Last-Event-ID is sent what it missed, once, or an event
// named "reset" when that is no longer held, and must then read again.
//
// Bad input, each refused before the engine and recorded like the above:
// a body that is not one JSON object in valid UTF-8 (null, an array,
// trailing data), a name given twice in any object of the body (400
// duplicate_field, field its path: "payload.x"), a top-level name the route
// does not take or spells in another case (400 unknown_field), a context
// number a 64-bit float would not keep as written, 12345678901234567891
// or 1e400 (400 wrong_type, field its path: "context.build"), a
// Content-Encoding other than identity (415 unsupported_encoding), a
// reason, note or operator name that is too long or holds control
// characters (422 invalid_field), and a query string that does not
// decode, names a parameter the route does not take, or gives one twice
// (400 bad_query). The Content-Type is not checked. A path that is not
// canonical ("//", "/./", "/../") is a 404, never a redirect. Two
// Authorization headers are a 401. A body that does not arrive within the
// server's read timeout is a 408; one that cannot be read (broken chunked
// framing, a connection that ends mid-body) is a 400 bad_body naming what
// broke. A panic below the handler is a 500 internal (logged with its
// stack), never a dropped connection.
//
// LimitListener caps the server's open connections (api.max_connections).
// At the cap a new connection takes the place of the connection idle the
// longest between two requests, which is closed; one busy with a request
// or an event stream is never closed for this, and when all are busy the
// new one waits for a place. /metrics counts them
// (grace_http_connections_open, _idle, _waiting, _max and
// grace_http_connections_evicted_total) when the listener is the
// handler's Options.Connections.
//
// NewClient speaks the same routes and maps the error shape back to the
// engine's sentinel errors and *engine.ValidationError, so callers branch on
// errors.Is and errors.As exactly as they would against the engine itself.
// Client.Subscribe reads the event stream, reconnecting as needed
// (SubscribeKinds: only some kinds, filtered by the server); Remote
// wraps a Client as a complete engine.OperatorAPI and engine.ChaosAPI for
// the console. Client.FollowChaos follows a run to its end.
//
// The chaos routes need Options.Chaos; without it they answer 503
// chaos_unavailable. A chaos run or halt records the caller as its
// operator, as approvals do. A run request the chaos service refuses (400
// invalid_chaos_request, naming the field) goes on the record like a bad
// body; one refused because a run goes (409 chaos_busy) does not. The
// event stream carries chaos progress as
// events named "chaos", and /metrics then adds grace_chaos_runs_total
// {state} and grace_chaos_running, counted from those events.
package httpapi
