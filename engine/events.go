package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// subscriberBuffer is how many events a subscriber may fall behind before
// it starts missing them.
const subscriberBuffer = 256

// The engine holds the newest events so that a subscriber that lost some
// (it reconnected, or fell more than subscriberBuffer behind) can be given
// them again: at most holdEvents of them and about holdBytes.
const (
	holdEvents = 4096
	holdBytes  = 8 << 20
)

// EventReset is the kind of the event a resumed subscription is given
// first when events it asked for are no longer held: it must read the
// state it follows again (list intents, take a snapshot) rather than
// rely on the events alone. Engine.Subscribe never sends it.
const EventReset = "reset"

// held is one event kept for replay. Intent events are kept as committed
// and masked when they are first handed to anyone: with nobody
// subscribed, holding them costs no masking.
type held struct {
	ev     Event
	masked bool
	size   int
}

// fanout delivers events to subscribers without ever blocking the sender,
// numbers them (Event.Seq, from 1 in each run, named by epoch) and holds
// the newest for replay.
type fanout struct {
	mask func(Event) Event // masks an intent event's values

	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped uint64
	epoch   string
	seq     uint64
	hold    []held // a ring: the oldest at first, n of them
	first   int
	n       int
	bytes   int
}

func newFanout(mask func(Event) Event) *fanout {
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return &fanout{
		mask:  mask,
		subs:  make(map[chan Event]struct{}),
		epoch: hex.EncodeToString(b[:]),
		hold:  make([]held, holdEvents),
	}
}

// Subscribe streams an Event{Kind: "intent"} for every intent state change
// the engine makes durable, and the watchdog's and chaos service's events,
// each numbered (Event.Seq), until ctx is cancelled or the engine stops;
// then the channel is closed. A subscriber more than 256 events behind
// misses events rather than slowing the engine: the next one it gets
// skips numbers, and EventsBetween gives what it missed while still held.
func (e *Engine) Subscribe(ctx context.Context) <-chan Event {
	ch, _, _ := e.subs.subscribe(ctx, "", 0)
	return ch
}

// EventEpoch names this run's numbering of events: Event.Seq counts from 1
// again in each run of the engine, so a position is an epoch and a Seq.
func (e *Engine) EventEpoch() string { return e.subs.epoch }

// SubscribeAfter is Subscribe resuming after event seq of epoch: replay
// holds the events after it that the engine still holds, oldest first,
// and the channel carries those that follow, with none lost or repeated
// between the two. complete is false when some events after seq are no
// longer held, or epoch is not this run's: the subscriber missed events
// and must read the state it follows again.
func (e *Engine) SubscribeAfter(ctx context.Context, epoch string, seq uint64) (ch <-chan Event, replay []Event, complete bool) {
	return e.subs.subscribe(ctx, epoch, seq)
}

// EventsBetween returns the held events numbered after and below before,
// oldest first; complete is false when some of them are no longer held.
func (e *Engine) EventsBetween(after, before uint64) (evs []Event, complete bool) {
	f := e.subs
	f.mu.Lock()
	hs, _, complete := f.heldAfter(after, before, 0, nil)
	f.mu.Unlock()
	return f.unmask(hs), complete
}

// SubscribeFrom is SubscribeAfter without the copy of what was missed:
// upTo is the newest event's number when the subscription began, and the
// subscriber reads the events in (seq, upTo] in pieces with EventsAfter,
// while the channel carries those after upTo. complete is false as for
// SubscribeAfter. However many subscribers resume at once, none holds a
// copy of everything held.
func (e *Engine) SubscribeFrom(ctx context.Context, epoch string, seq uint64) (ch <-chan Event, upTo uint64, complete bool) {
	f := e.subs
	c := make(chan Event, subscriberBuffer)
	f.mu.Lock()
	upTo, complete = f.seq, epoch == f.epoch && seq <= f.seq
	if complete {
		_, _, complete = f.heldAfter(seq, seq+2, 0, func(Event) bool { return false })
	}
	f.subs[c] = struct{}{}
	f.mu.Unlock()
	context.AfterFunc(ctx, func() { f.remove(c) })
	return c, upTo, complete
}

// EventsAfter returns, oldest first, at most limit of the held events
// numbered after after and below before that keep accepts (nil: every
// one), and at most about replayChunkBytes of them; next is the number of
// the last event looked at (before-1 when every one was), to ask from
// next. complete is false when some events after after are no longer held.
// keep is called under the engine's lock with the event as committed (its
// values not yet masked): it must be quick, and may look at its kind and
// its intent's actor, never hand the event on. Filtering here copies only
// what the subscriber will send.
func (e *Engine) EventsAfter(after, before uint64, limit int, keep func(Event) bool) (evs []Event, next uint64, complete bool) {
	f := e.subs
	f.mu.Lock()
	hs, next, complete := f.heldAfter(after, before, limit, keep)
	f.mu.Unlock()
	return f.unmask(hs), next, complete
}

// replayChunkBytes bounds what one EventsAfter returns (by eventSize),
// beyond its first event.
const replayChunkBytes = 256 << 10

// heldAfter copies the held events numbered in (after, before) that keep
// accepts (nil: all), at most limit of them (0: no limit) and, with a
// limit, about replayChunkBytes; next is the number of the last one looked
// at. Called with mu held.
func (f *fanout) heldAfter(after, before uint64, limit int, keep func(Event) bool) (out []held, next uint64, complete bool) {
	if before <= after+1 {
		return nil, after, true
	}
	oldest := f.seq + 1 // with nothing held, the next to come
	if f.n > 0 {
		oldest = f.hold[f.first].ev.Seq
	}
	complete = oldest <= after+1
	next = max(after, min(before-1, f.seq))
	// Held events are numbered one after another: start at after+1.
	start := 0
	if after+1 > oldest {
		start = int(min(after+1-oldest, uint64(f.n)))
	}
	size := 0
	for i := start; i < f.n; i++ {
		h := &f.hold[(f.first+i)%len(f.hold)]
		if h.ev.Seq >= before {
			break
		}
		if h.ev.Seq <= after {
			continue
		}
		if keep == nil || keep(h.ev) {
			if limit > 0 && (len(out) == limit || (len(out) > 0 && size+h.size > replayChunkBytes)) {
				return out, h.ev.Seq - 1, complete
			}
			out = append(out, *h)
			size += h.size
		}
	}
	return out, next, complete
}

// subscribe registers a subscriber; with an epoch it also returns the held
// events after seq (see SubscribeAfter), taken under the same lock so that
// nothing falls between them and the channel.
func (f *fanout) subscribe(ctx context.Context, epoch string, seq uint64) (<-chan Event, []Event, bool) {
	ch := make(chan Event, subscriberBuffer)
	f.mu.Lock()
	var hs []held
	complete := true
	if epoch != "" {
		if epoch == f.epoch && seq <= f.seq {
			hs, _, complete = f.heldAfter(seq, f.seq+1, 0, nil)
		} else {
			complete = false
		}
	}
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	context.AfterFunc(ctx, func() { f.remove(ch) })
	return ch, f.unmask(hs), complete
}

// unmask masks the held events not masked yet, outside the lock.
func (f *fanout) unmask(hs []held) []Event {
	if len(hs) == 0 {
		return nil
	}
	evs := make([]Event, len(hs))
	for i, h := range hs {
		if !h.masked && f.mask != nil {
			h.ev = f.mask(h.ev)
		}
		evs[i] = h.ev
	}
	return evs
}

func (f *fanout) remove(ch chan Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

// publish numbers ev, holds it, and offers it to every subscriber, dropping
// it for those whose buffer is full. masked says ev holds nothing to mask
// (or is masked already); an intent event is masked here once, when
// someone is subscribed, and otherwise only if it is ever replayed.
func (f *fanout) publish(ev Event, masked bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	ev.Seq = f.seq
	if len(f.subs) > 0 && !masked && f.mask != nil {
		ev, masked = f.mask(ev), true
	}
	f.keep(held{ev: ev, masked: masked, size: eventSize(ev)})
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			f.dropped++
		}
	}
}

// keep holds h, letting the oldest go past holdEvents or holdBytes.
// Called with mu held.
func (f *fanout) keep(h held) {
	for f.n > 0 && (f.n == len(f.hold) || f.bytes+h.size > holdBytes) {
		f.bytes -= f.hold[f.first].size
		f.hold[f.first] = held{}
		f.first = (f.first + 1) % len(f.hold)
		f.n--
	}
	f.hold[(f.first+f.n)%len(f.hold)] = h
	f.n++
	f.bytes += h.size
}

// eventSize estimates what holding ev costs: its variable parts and a
// fixed overhead.
func eventSize(ev Event) int {
	const fixed = 1 << 10
	in := ev.Intent
	n := fixed + len(in.Payload) + len(in.DecisionReason) + len(in.LastError)
	if ev.Telemetry != nil {
		n += 4 << 10
	}
	return n
}

// closeAll ends every subscription.
func (f *fanout) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
}
