// Package cortex is the demo "Layer 3 cortex": a handful of named agents
// (agent.researcher, agent.planner, agent.sre, agent.architect,
// agent.steward) that submit intents to the engine through its operator
// API, so that a newcomer's `make run` shows a living system.
//
// A Cortex submits at cortex.rate intents per second with exponentially
// distributed gaps (a Poisson process) timed on an injected clock, choosing
// each intent type by the cortex.mix weights. Each submission reads like
// real work: a knowledge query, the summary of a named document, a sandbox
// run with its command, a model deploy with its version, a config key with
// its old and new value, a feature to build. Mission contexts claim the
// charter priorities the work plausibly serves; priorities are mostly 3 to 6
// with the odd 8 or 9; every submission carries an idempotency key.
//
// About 2% of submissions are deliberately invalid (a priority out of range,
// an empty actor) so that rejections show up on the record, and about 1% are
// retries of an earlier submission with the same idempotency key, so that
// deduplication does too. The default mix includes Tier 0 types now and
// then, which wait for the operator.
package cortex
