package engine

import (
	"context"
	"sync"
)

// subscriberBuffer is how many events a subscriber may fall behind before
// it starts missing them.
const subscriberBuffer = 256

// fanout delivers events to subscribers without ever blocking the sender.
type fanout struct {
	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped uint64
}

func newFanout() *fanout { return &fanout{subs: make(map[chan Event]struct{})} }

// Subscribe streams an Event{Kind: "intent"} for every intent state change
// the engine makes durable, until ctx is cancelled or the engine stops;
// then the channel is closed. A subscriber more than 256 events behind
// misses events rather than slowing the engine.
func (e *Engine) Subscribe(ctx context.Context) <-chan Event {
	return e.subs.subscribe(ctx)
}

func (f *fanout) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, subscriberBuffer)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	context.AfterFunc(ctx, func() { f.remove(ch) })
	return ch
}

func (f *fanout) remove(ch chan Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

// active reports whether anyone is subscribed.
func (f *fanout) active() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs) > 0
}

// publish offers ev to every subscriber, dropping it for those whose
// buffer is full.
func (f *fanout) publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			f.dropped++
		}
	}
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
