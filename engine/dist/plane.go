package dist

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// ErrAnotherControlPlane is returned by NewDispatcher when another Grace
// control plane already serves the NATS it is given: two would answer
// each other's workers' claims and results.
var ErrAnotherControlPlane = errors.New("another Grace control plane serves this NATS")

// planeAskTimeout bounds the question, at start, whether another control
// plane serves: one that does answers at once; no subscriber at all is
// known at once (no responders).
const planeAskTimeout = time.Second

// planeRaceWait is how long, after its own answer, a control plane that
// has just started answering waits for another's: two starting at once
// both see it and both stop.
const planeRaceWait = 100 * time.Millisecond

// ControlPlane identifies a control plane to another that would start on
// the same NATS.
type ControlPlane struct {
	// Host and PID: the machine and process (os.Hostname and os.Getpid
	// when empty).
	Host string
	PID  int
	// API is its HTTP API address, if it has one.
	API string
}

func (c ControlPlane) withDefaults() ControlPlane {
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	if c.PID == 0 {
		c.PID = os.Getpid()
	}
	return c
}

func (p planeInfo) String() string {
	s := fmt.Sprintf("on %s, pid %d", p.Host, p.PID)
	if p.API != "" {
		s += ", API " + p.API
	}
	return s
}

func anotherPlane(p planeInfo) error {
	return fmt.Errorf("%w (%s, serving since %s): stop it first, or give this one a NATS server of its own",
		ErrAnotherControlPlane, p, p.Started.Format(time.RFC3339))
}

// askPlane asks whether a control plane answers on nc, before d answers.
func askPlane(nc *nats.Conn) error {
	m, err := nc.Request(subjectPlane, nil, planeAskTimeout)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case err != nil:
		// Someone listens without answering: a control plane whose
		// connection the server has not yet found dead. It serves no one.
		return nil
	}
	var p planeInfo
	if err := json.Unmarshal(m.Data, &p); err != nil {
		return fmt.Errorf("%w (its answer is unreadable: %v)", ErrAnotherControlPlane, err)
	}
	return anotherPlane(p)
}

// answerPlane makes d answer who it is on grace.ctl.plane, then asks
// again, for a control plane that started at the same moment: each of two
// that both passed askPlane hears the other.
func (d *Dispatcher) answerPlane(me planeInfo) error {
	body, err := json.Marshal(me)
	if err != nil {
		return err
	}
	s, err := d.nc.Subscribe(subjectPlane, func(m *nats.Msg) { _ = m.Respond(body) })
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", subjectPlane, err)
	}
	d.subs = append(d.subs, s)
	inbox := nats.NewInbox()
	replies, err := d.nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", inbox, err)
	}
	defer func() { _ = replies.Unsubscribe() }()
	if err := d.nc.PublishRequest(subjectPlane, inbox, nil); err != nil {
		return fmt.Errorf("ask %s: %w", subjectPlane, err)
	}
	deadline := time.Now().Add(planeAskTimeout)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil
		}
		m, err := replies.NextMsg(wait)
		if err != nil {
			return nil // no other answer in time
		}
		var p planeInfo
		if json.Unmarshal(m.Data, &p) != nil {
			continue
		}
		if p.Instance != me.Instance {
			return anotherPlane(p)
		}
		deadline = time.Now().Add(planeRaceWait) // ours came: others come about as fast
	}
}

// newInstanceID names one process (a worker's or a control plane's)
// apart from any other using the same name.
func newInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
