package engine

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"grace/engine/clarity"
)

// The budgets of refusal records, so that a flood of bad requests cannot
// fill the disk, and so that nobody's flood pushes an accountable
// identity's refusals off the record.
//
// An identity (a caller that proved who it is, or the operator or actor
// the engine refused) has a budget of its own: identityRefusalBurst at
// once, refilled at identityRefusalRate a second. Past it, its refusals
// are counted and the count goes on its next record, or on a summary
// refusalSummaryEvery after the first one counted when no record of its
// own has come by then (and on a summary when the engine stops).
//
// Unauthenticated refusals have a small budget per remote address
// (anonRefusalBurst per address, refilled at anonRefusalRate a second; an
// IPv6 address counts by its /64) and, all addresses together, a global
// cap (anonGlobalBurst, anonGlobalRate a second). Past either, they are
// counted per address and summarised: one record per address every
// refusalSummaryEvery ("N unauthenticated requests refused from ADDR since
// T (throttled)"), for at most maxSummaryAddrs addresses; the rest share
// one record. A flood thus writes at most about anonGlobalRate records a
// second plus maxSummaryAddrs+1 summaries a minute.
const (
	identityRefusalRate  = 20
	identityRefusalBurst = 1000

	anonRefusalRate  = 1.0 / 6 // 10 a minute
	anonRefusalBurst = 20
	anonGlobalRate   = 2 // 120 a minute
	anonGlobalBurst  = 100

	refusalSummaryEvery = time.Minute
	maxSummaryAddrs     = 100

	// The buckets kept: a full one with nothing counted is forgotten
	// when the map is full; past that, identities share one bucket and
	// addresses are summarised at once.
	maxIdentityBuckets = 4096
	maxAddrBuckets     = 4096
)

// otherAddrs is the summary key of the addresses past maxSummaryAddrs,
// and sharedIdentity the bucket key of identities past maxIdentityBuckets.
const (
	otherAddrs     = "\x00other"
	sharedIdentity = "\x00shared"
)

// RefusalCounts are the refusals counted since start, by whether the
// caller proved an identity: recorded one by one, or past the budget and
// counted on a later record or a summary instead.
type RefusalCounts struct {
	IdentifiedRecorded      uint64
	IdentifiedSummarised    uint64
	UnauthenticatedRecorded uint64
	// UnauthenticatedSummarised counts the unauthenticated refusals past
	// the budget; Summaries the summary records written for them.
	UnauthenticatedSummarised uint64
	Summaries                 uint64
	// IdentitySummaries counts the summary records written for
	// identities' refusals past their budget that no later record of
	// their own counted.
	IdentitySummaries uint64
}

// bucket is a token bucket, with the refusals it counted while empty.
type bucket struct {
	tokens      float64
	last        time.Time
	skipped     int
	since       time.Time // the first one counted
	lastSkipped time.Time // the last one counted
}

func newBucket(now time.Time, burst float64) *bucket { return &bucket{tokens: burst, last: now} }

// take spends one token at now; ok is false when none is left (the
// refusal is counted instead); skipped is how many were counted since the
// last one taken.
func (b *bucket) take(now time.Time, rate, burst float64) (skipped int, ok bool) {
	b.refill(now, rate, burst)
	if b.tokens < 1 {
		if b.skipped == 0 {
			b.since = now
		}
		b.skipped++
		b.lastSkipped = now
		return 0, false
	}
	b.tokens--
	skipped, b.skipped = b.skipped, 0
	return skipped, true
}

// has reports whether a token is left at now, without spending it.
func (b *bucket) has(now time.Time, rate, burst float64) bool {
	b.refill(now, rate, burst)
	return b.tokens >= 1
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+d.Seconds()*rate)
		b.last = now
	}
}

// idle reports whether b at now is as a new bucket would be: full, with
// nothing counted.
func (b *bucket) idle(now time.Time, rate, burst float64) bool {
	b.refill(now, rate, burst)
	return b.skipped == 0 && b.tokens >= burst
}

// anonSummary counts an address's unauthenticated refusals past the
// budget.
type anonSummary struct {
	n           int
	since, last time.Time
	where       string
	action      string
	status      int
	code        string
	addrs       int    // for otherAddrs: how many addresses (consecutive ones from one count once)
	lastAddr    string // for otherAddrs
}

// refusalBudget holds the budgets above.
type refusalBudget struct {
	mu         sync.Mutex
	byIdentity map[string]*bucket
	byAddr     map[string]*bucket
	anon       *bucket
	pending    map[string]*anonSummary
	counts     RefusalCounts
}

func newRefusalBudget() *refusalBudget {
	return &refusalBudget{byIdentity: map[string]*bucket{}, byAddr: map[string]*bucket{}, pending: map[string]*anonSummary{}}
}

// identified spends a token of who's budget at now. ok is false when its
// budget is spent (the refusal is counted instead); skipped is how many
// of who's refusals were counted since its last record.
func (rb *refusalBudget) identified(who string, now time.Time) (skipped int, ok bool) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	b := rb.byIdentity[who]
	if b == nil {
		if len(rb.byIdentity) >= maxIdentityBuckets {
			prune(rb.byIdentity, now, identityRefusalRate, identityRefusalBurst)
		}
		if len(rb.byIdentity) >= maxIdentityBuckets {
			who = sharedIdentity
			b = rb.byIdentity[who]
		}
		if b == nil {
			b = newBucket(now, identityRefusalBurst)
			rb.byIdentity[who] = b
		}
	}
	skipped, ok = b.take(now, identityRefusalRate, identityRefusalBurst)
	if ok {
		rb.counts.IdentifiedRecorded++
	} else {
		rb.counts.IdentifiedSummarised++
	}
	return skipped, ok
}

// unauthenticated spends a token of addr's budget and of the global one
// at now, and reports whether r is recorded one by one; if not it is
// counted for addr's summary.
func (rb *refusalBudget) unauthenticated(addr string, r Refusal, now time.Time) bool {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if rb.anon == nil {
		rb.anon = newBucket(now, anonGlobalBurst)
	}
	b := rb.byAddr[addr]
	if b == nil {
		if len(rb.byAddr) >= maxAddrBuckets {
			prune(rb.byAddr, now, anonRefusalRate, anonRefusalBurst)
		}
		if len(rb.byAddr) < maxAddrBuckets {
			b = newBucket(now, anonRefusalBurst)
			rb.byAddr[addr] = b
		}
	}
	if b != nil && b.has(now, anonRefusalRate, anonRefusalBurst) && rb.anon.has(now, anonGlobalRate, anonGlobalBurst) {
		b.take(now, anonRefusalRate, anonRefusalBurst)
		rb.anon.take(now, anonGlobalRate, anonGlobalBurst)
		rb.counts.UnauthenticatedRecorded++
		return true
	}
	rb.counts.UnauthenticatedSummarised++
	key := addr
	if rb.pending[key] == nil && len(rb.pending) >= maxSummaryAddrs {
		key = otherAddrs
	}
	s := rb.pending[key]
	if s == nil {
		s = &anonSummary{since: now}
		rb.pending[key] = s
	}
	if key == otherAddrs && s.lastAddr != addr {
		s.addrs++
		s.lastAddr = addr
	}
	s.n++
	s.last, s.where, s.action, s.status, s.code = now, r.Where, r.Action, r.Status, r.Code
	return false
}

// due takes the summaries whose first refusal is refusalSummaryEvery old
// at now (all of them with force), oldest first.
func (rb *refusalBudget) due(now time.Time, force bool) []dueSummary {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	var out []dueSummary
	for addr, s := range rb.pending {
		if force || now.Sub(s.since) >= refusalSummaryEvery {
			out = append(out, dueSummary{addr: addr, anonSummary: *s})
			delete(rb.pending, addr)
		}
	}
	rb.counts.Summaries += uint64(len(out))
	sort.Slice(out, func(i, j int) bool { return out[i].since.Before(out[j].since) })
	return out
}

type dueSummary struct {
	addr string
	anonSummary
}

// identitySummary is an identity's refusals past its budget that no later
// record of its own has counted.
type identitySummary struct {
	who         string
	n           int
	since, last time.Time
}

// dueIdentities takes the identities whose refusals past the budget began
// refusalSummaryEvery before now (all of them with force) and have not
// gone on a record since, oldest first; their counts start again at 0.
func (rb *refusalBudget) dueIdentities(now time.Time, force bool) []identitySummary {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	var out []identitySummary
	for who, b := range rb.byIdentity {
		if b.skipped > 0 && (force || now.Sub(b.since) >= refusalSummaryEvery) {
			out = append(out, identitySummary{who: who, n: b.skipped, since: b.since, last: b.lastSkipped})
			b.skipped = 0
		}
	}
	rb.counts.IdentitySummaries += uint64(len(out))
	sort.Slice(out, func(i, j int) bool { return out[i].since.Before(out[j].since) })
	return out
}

func (rb *refusalBudget) snapshot() RefusalCounts {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	return rb.counts
}

// prune forgets the buckets that are as new ones would be.
func prune(m map[string]*bucket, now time.Time, rate, burst float64) {
	for k, b := range m {
		if b.idle(now, rate, burst) {
			delete(m, k)
		}
	}
}

// remoteKey is the address whose budget an unauthenticated request from
// remote ("host:port") spends: its IP, or its /64 for IPv6.
func remoteKey(remote string) string {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return addrKey(ap.Addr())
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return addrKey(a)
	}
	if remote == "" {
		return "unknown"
	}
	return clip(remote, 100)
}

func addrKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// summariseRefusals writes the unauthenticated refusal summaries due at
// now, and those of identities whose refusals past their budget no record
// of theirs has counted for refusalSummaryEvery (all of them with force).
// It logs, never fails.
func (e *Engine) summariseRefusals(ctx context.Context, now time.Time, force bool) {
	for _, s := range e.guard.budget.due(now, force) {
		if err := e.recordRefused(ctx, summaryRecord(now, s)); err != nil {
			e.log.Error("record refusal summary", "remote", s.addr, "err", err)
		}
	}
	for _, s := range e.guard.budget.dueIdentities(now, force) {
		if err := e.recordRefused(ctx, identitySummaryRecord(now, s)); err != nil {
			e.log.Error("record refusal summary", "who", s.who, "err", err)
		}
	}
}

// identitySummaryRecord narrates an identity's refusals that were past its
// budget and went on no later record of its own.
func identitySummaryRecord(now time.Time, s identitySummary) clarity.Record {
	since := s.since.UTC().Format(time.RFC3339)
	who, whose := s.who, s.who+"'s"
	if who == sharedIdentity {
		who, whose = "identities", "identities' (past the number of identities counted one by one)"
	}
	why := []string{
		fmt.Sprintf("%d of %s refusals since %s were not recorded one by one (throttled)", s.n, whose, since),
		"Each was refused: nothing changed; past an identity's budget its refusals are counted, and summarised when no later record of its own says how many",
	}
	r := rec(now, who, WhatRequestRefused, "front_door", "access_control", "refused", "", why,
		map[string]any{"refused": s.n, "unrecorded_refusals": s.n, "since": since,
			"until": s.last.UTC().Format(time.RFC3339), "throttled": true})
	r.Risk = 0.5
	return r
}

// summaryRecord narrates the unauthenticated refusals from one address
// that were not recorded one by one.
func summaryRecord(now time.Time, s dueSummary) clarity.Record {
	since := s.since.UTC().Format(time.RFC3339)
	var why []string
	ctx := map[string]any{"refused": s.n, "since": since, "until": s.last.UTC().Format(time.RFC3339),
		"unrecorded_refusals": s.n, "throttled": true, "last_status": s.status, "last_code": s.code}
	if s.addr == otherAddrs {
		why = append(why, fmt.Sprintf("%d unauthenticated requests refused from %d other addresses since %s (throttled)", s.n, s.addrs, since))
		ctx["addresses"] = s.addrs
	} else {
		why = append(why, fmt.Sprintf("%d unauthenticated requests refused from %s since %s (throttled)", s.n, s.addr, since))
		ctx["remote"] = s.addr
		ctx["last_action"] = clip(s.action, 200)
	}
	why = append(why, fmt.Sprintf("The last was refused with %d %s; each was refused before reaching the engine: nothing changed", s.status, s.code),
		"Past the unauthenticated budget, such refusals are summarised rather than recorded one by one")
	where := s.where
	if where == "" {
		where = "front_door"
	}
	r := rec(now, "unauthenticated", WhatRequestRefused, where, "access_control", "refused", "", why, ctx)
	r.Risk = 0.7
	return r
}

// identityKey is the budget key of who.
func identityKey(who string) string {
	who = strings.TrimSpace(who)
	if who == "" || !printable(who) {
		return actorUnknown
	}
	return clip(who, maxActorLen)
}

// RefusalCounts returns the refusals counted since start: recorded one
// by one, or past the budgets and summarised.
func (e *Engine) RefusalCounts() RefusalCounts { return e.guard.budget.snapshot() }
