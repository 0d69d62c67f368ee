package mesh

// ring is a FIFO of events in a circular slice. It grows when full; a
// bounded subscription never lets it grow past its capacity.
type ring struct {
	buf  []Event
	head int
	n    int
}

func newRing(size int) ring { return ring{buf: make([]Event, max(size, 1))} }

func (r *ring) len() int { return r.n }

func (r *ring) push(ev Event) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = ev
	r.n++
}

// pop removes the oldest event; the ring must not be empty.
func (r *ring) pop() Event {
	ev := r.buf[r.head]
	r.buf[r.head] = Event{} // let the fields be collected
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return ev
}

func (r *ring) grow() {
	buf := make([]Event, len(r.buf)*2)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}
