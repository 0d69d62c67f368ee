// Package httpapi serves the engine's operator API as JSON over HTTP and
// provides a client for it.
//
// NewHandler exposes an engine.OperatorAPI on the routes of DESIGN.md:
//
//	POST /v1/intents                 submit → 202 {id, state, decision, existing}
//	GET  /v1/intents/{id}            one intent
//	GET  /v1/intents?state=S         intents, newest first
//	POST /v1/intents/{id}/approve    {reason}
//	POST /v1/intents/{id}/deny       {reason} (required)
//	GET  /v1/narratives?q=&actor=&action=&since=&limit=&intent=
//	GET  /v1/telemetry               the engine's live snapshot
//	GET  /healthz   GET /readyz      unauthenticated probes
//
// Every route but the probes needs "Authorization: Bearer <token>". Errors
// have one stable shape, {"error": {"code", "message", "field"}}, with a
// "problems" list beside it for a rejected submission (422). A request that
// is refused (bad token, malformed or oversized body, unknown field, wrong
// type) never reaches the engine, so it changes nothing.
//
// NewClient speaks the same routes and maps the error shape back to the
// engine's sentinel errors and *engine.ValidationError, so callers branch on
// errors.Is and errors.As exactly as they would against the engine itself.
package httpapi
