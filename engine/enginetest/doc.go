// Package enginetest holds in-memory fakes of the interfaces the engine
// depends on, for tests: Store implements intent.Store, clarity.Journal and
// clarity.Searcher the way their documentation says (a Change is all or
// nothing, an idempotency key is taken once, ApplyAsync applies changes in
// the order they were queued and calls done from a writer goroutine), and
// keeps everything it was given so tests can inspect it.
//
// It checks what a real store would refuse (a record without Who, What or
// When, an update of an unknown intent, a duplicate ID) so that a test
// against the fake fails where production would.
package enginetest
