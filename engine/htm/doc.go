// Package htm is the HTM orchestrator's bounded priority queue: intents wait
// here, highest priority first and oldest first within a priority, until the
// scheduler dispatches them.
//
// An intent whose NotBefore lies in the future (a retry waiting out its
// backoff) is held aside and becomes ready once the time passed to Pop
// reaches it; NextDue tells the scheduler when to look again, so nothing
// has to poll. Both parts count towards Len, since both are accepted work
// that has not been dispatched.
//
// The capacity bounds new work only: Reserve and Push refuse once Len plus
// the outstanding reservations reach it, while Requeue always admits work
// that was already accepted (a retry, a recovered intent, an approval), so
// that nothing accepted is ever dropped by the bound.
//
// Load shedding takes work out by Shed: the queued intents a predicate
// selects, lowest priority and oldest first, up to a bound. The predicate
// is usually a Criteria parsed from config ("priority<5 and age>10m").
//
// A Hold keeps the intents of one type, or of one actor, queued but passed
// over by Pop until Unhold; an intent that several holds match waits until
// the last of them is lifted. Hold and Unhold scan the queue; with no hold
// in force the other operations cost nothing more, and with holds two map
// look-ups per push.
//
// A Queue is safe for concurrent use. Every operation is O(log n) except
// Len, Level and NextDue, which are O(1), and Shed, which scans the queue.
package htm
