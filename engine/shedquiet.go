package engine

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine/htm"
	"grace/engine/intent"
)

// shedQuiet spares the protection loop its full scan of the queue on every
// submission of a critical episode when the answer is known to be "nothing
// to shed". A scan that sheds nothing records until when that answer
// stands: whether a queued intent matches htm.shedding.criteria changes
// with time only through its age, so only when some intent's age crosses
// an age threshold of the criteria. Every intent queued afterwards is
// checked on its own as it comes (noteQueued): one that matches at once
// makes the next check scan; one that does not may bring that time nearer.
// A check before that time with nothing matching queued since is skipped:
// it would have found nothing. The periodic tick always scans.
type shedQuiet struct {
	// ages are the age thresholds of the criteria (read from their
	// canonical text); exact is false when they could not be read, and
	// then every check scans.
	ages  []time.Duration
	exact bool

	mu    sync.Mutex
	quiet bool      // the last scan shed nothing and nothing since may match
	dirty bool      // an intent that matched was queued since the scan began
	calm  time.Time // with hasCalm: from then on an intent may start to match
	// hasCalm is false while no queued intent can ever start to match.
	hasCalm bool
	seen    time.Time // the latest time the answer was checked at

	scans atomic.Uint64 // full scans run (for tests)
}

func newShedQuiet(c htm.Criteria) *shedQuiet {
	q := &shedQuiet{exact: true}
	for part := range strings.SplitSeq(c.String(), " and ") {
		rest, ok := strings.CutPrefix(part, "age")
		if !ok {
			continue
		}
		val := strings.TrimLeft(rest, "<>=!")
		d, err := time.ParseDuration(val)
		if len(val) == len(rest) || err != nil {
			return &shedQuiet{} // not the canonical form expected: always scan
		}
		q.ages = append(q.ages, d)
	}
	return q
}

// change returns the first time after t at which the age of an intent
// due at due (htm.Due) crosses one of the thresholds (where a clause on its
// age can change its answer: at the threshold or a nanosecond past it);
// ok is false when there is none.
func (q *shedQuiet) change(due, t time.Time) (at time.Time, ok bool) {
	for _, age := range q.ages {
		for _, c := range [2]time.Time{due.Add(age), due.Add(age + 1)} {
			if c.After(t) && (!ok || c.Before(at)) {
				at, ok = c, true
			}
		}
	}
	return at, ok
}

// foldLocked brings the calm time forward to at.
func (q *shedQuiet) foldLocked(at time.Time) {
	if !q.hasCalm || at.Before(q.calm) {
		q.calm, q.hasCalm = at, true
	}
}

// skip reports whether a check at now may be skipped: the last scan shed
// nothing, nothing queued since matches, and no intent's age has crossed a
// threshold.
func (q *shedQuiet) skip(now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.quiet && !now.Before(q.seen) && (!q.hasCalm || now.Before(q.calm))
}

// reset forgets the answer (the episode ended, or shedding is off).
func (q *shedQuiet) reset() {
	q.mu.Lock()
	q.quiet = false
	q.mu.Unlock()
}

// begin starts a scan at now: what is queued from here on is noted for it.
func (q *shedQuiet) begin(now time.Time) {
	q.scans.Add(1)
	q.mu.Lock()
	q.quiet, q.dirty, q.hasCalm, q.seen = false, false, false, now
	q.mu.Unlock()
}

// end closes the scan begun at now: shed is how many it shed; next (with
// hasNext) is the first time a queued intent it passed over may start to
// match.
func (q *shedQuiet) end(now time.Time, shed int, next time.Time, hasNext bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if shed > 0 || q.dirty || !q.exact {
		return
	}
	if hasNext {
		q.foldLocked(next)
	}
	if now.After(q.seen) {
		q.seen = now
	}
	q.quiet = true
}

// noteQueued checks in, just queued, against the criteria at now; matches
// is whether it is sheddable and matches. Call it after every push into the
// queue.
func (q *shedQuiet) noteQueued(in intent.Intent, now time.Time, matches bool) {
	var at time.Time
	var ok bool
	if !matches && sheddable(in) {
		at, ok = q.change(htm.Due(in), now)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if matches {
		q.dirty, q.quiet = true, false
		return
	}
	if ok {
		q.foldLocked(at)
	}
	if now.After(q.seen) {
		q.seen = now
	}
}
