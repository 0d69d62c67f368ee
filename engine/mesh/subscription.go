package mesh

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// consumeBatch is how many events a consumer takes from its buffer at once.
const consumeBatch = 64

// Handler receives a subscription's events one at a time, in the order
// they were queued, on the subscription's own goroutine. ctx is the mesh's
// run context; it is cancelled when the mesh stops. A handler that panics
// loses that event (it counts as delivered) and the panic is counted in
// SubStats.Panics; the subscription goes on.
type Handler func(ctx context.Context, ev Event)

// Spec describes a subscription. Zero fields take the mesh's defaults.
type Spec struct {
	// Name identifies the subscription in stats and narratives; it must be
	// unique within the mesh.
	Name string
	// Pattern selects the topics (see ParsePattern); it must select at
	// least one declared topic.
	Pattern string
	// Buffer bounds the queue (mesh.buffer when 0).
	Buffer int
	// Backpressure is the policy when the buffer is full
	// (mesh.backpressure when empty).
	Backpressure Backpressure
	// BlockTimeout bounds a publisher's wait under Block
	// (mesh.block_timeout when 0).
	BlockTimeout time.Duration
}

// Subscription is one subscriber's bounded queue and its consumer. Close
// ends it.
type Subscription struct {
	m            *Mesh
	name         string
	pattern      Pattern
	policy       Backpressure
	capacity     int // 0: unbounded (mesh_backpressure off)
	buffer       int // the configured bound, also when unbounded
	blockTimeout time.Duration
	handler      Handler

	notify    chan struct{} // wakes the consumer (capacity 1)
	space     chan struct{} // wakes a publisher waiting for room (capacity 1)
	stop      chan struct{} // closed by Close
	closeOnce sync.Once
	panics    atomic.Uint64

	mu        sync.Mutex
	q         ring
	closed    bool
	waiting   int // publishers waiting for room
	offered   uint64
	delivered uint64
	dropped   uint64
	peak      int // deepest the queue has been
	ep        episode
	episodes  uint64
}

// Name returns the subscription's name.
func (s *Subscription) Name() string { return s.name }

// Pattern returns the subscription's topic pattern.
func (s *Subscription) Pattern() string { return s.pattern.String() }

// offer queues ev or applies the backpressure policy. canWait is false for
// publishers that must never wait (Offer): a full Block subscription then
// drops the event at once.
func (s *Subscription) offer(ctx context.Context, ev Event, canWait bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.offered++
	if s.capacity == 0 || s.q.len() < s.capacity {
		s.pushLocked(ev)
		s.mu.Unlock()
		s.wake()
		return
	}
	switch s.policy {
	case DropOldest:
		old := s.q.pop()
		s.dropLocked(ev.At, old.Topic)
		s.pushLocked(ev)
		s.mu.Unlock()
		s.wake()
		return
	case Block:
		if canWait && s.blockTimeout > 0 {
			s.waitForRoom(ctx, ev) // unlocks
			return
		}
	}
	s.dropLocked(ev.At, ev.Topic)
	s.mu.Unlock()
}

func (s *Subscription) pushLocked(ev Event) {
	s.q.push(ev)
	if n := s.q.len(); n > s.peak {
		s.peak = n
	}
}

// waitForRoom is called with s.mu held on a full Block subscription; it
// waits for the consumer to make room, up to the block timeout, and
// returns with s.mu released.
func (s *Subscription) waitForRoom(ctx context.Context, ev Event) {
	deadline := s.m.clock.After(s.blockTimeout)
	for {
		s.waiting++
		s.mu.Unlock()
		gaveUp := false
		select {
		case <-s.space:
		case <-deadline:
			gaveUp = true
		case <-ctx.Done():
			gaveUp = true
		case <-s.stop:
			gaveUp = true
		}
		s.mu.Lock()
		s.waiting--
		if !s.closed && s.q.len() < s.capacity {
			s.pushLocked(ev)
			if s.waiting > 0 && s.q.len() < s.capacity {
				s.signalSpace() // pass the room on to the next waiter
			}
			s.mu.Unlock()
			s.wake()
			return
		}
		if gaveUp {
			s.dropLocked(s.m.clock.Now(), ev.Topic)
			s.mu.Unlock()
			return
		}
	}
}

// dropLocked counts one dropped event of topic and opens or extends the
// shedding episode.
func (s *Subscription) dropLocked(now time.Time, topic string) {
	s.dropped++
	e := &s.ep
	if !e.open {
		*e = episode{open: true, start: now, offered0: s.offered - 1, delivered0: s.delivered, topics: map[string]uint64{}}
	}
	e.last = now
	e.dropped++
	e.topics[topic]++
	if q := s.q.len(); q > e.peak {
		e.peak = q
	}
}

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Subscription) signalSpace() {
	select {
	case s.space <- struct{}{}:
	default:
	}
}

// consume hands queued events to the handler until ctx is cancelled or the
// subscription is closed. Events still queued then stay queued (and
// counted as such).
func (s *Subscription) consume(ctx context.Context) {
	batch := make([]Event, 0, consumeBatch)
	for {
		s.mu.Lock()
		for s.q.len() > 0 && len(batch) < consumeBatch {
			batch = append(batch, s.q.pop())
		}
		s.delivered += uint64(len(batch))
		if len(batch) > 0 && s.waiting > 0 {
			s.signalSpace()
		}
		s.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			case <-s.notify:
			}
			continue
		}
		for i := range batch {
			s.call(ctx, batch[i])
			batch[i] = Event{}
		}
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case <-s.stop:
			return
		default:
		}
	}
}

func (s *Subscription) call(ctx context.Context, ev Event) {
	defer func() {
		if v := recover(); v != nil {
			s.panics.Add(1)
			s.m.log.Error("mesh subscriber panicked", "subscription", s.name, "topic", ev.Topic, "event", ev.ID, "panic", v)
		}
	}()
	s.handler(ctx, ev)
}

// Close ends the subscription: it receives nothing more, its consumer
// stops after the event in hand, and events still queued are counted as
// dropped (and narrated as the end of a shedding episode). Close does not
// wait for the consumer (it may be called from the handler); Run waits for
// it. Closing twice is safe.
func (s *Subscription) Close() {
	s.closeOnce.Do(func() {
		s.m.unsubscribe(s)
		s.mu.Lock()
		s.closed = true
		now := s.m.clock.Now()
		for s.q.len() > 0 {
			ev := s.q.pop()
			s.dropLocked(now, ev.Topic)
		}
		rep := s.takeEpisodeLocked(now, reasonUnsubscribed)
		s.mu.Unlock()
		close(s.stop)
		if rep != nil {
			s.m.narrateEpisode(*rep)
		}
	})
}
