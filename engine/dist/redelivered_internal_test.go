package dist

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"grace/engine/intent"
)

// deliveryMsg is a task message delivered again; it records what the
// worker answers on it.
type deliveryMsg struct {
	jetstream.Msg // not called: panics if it is
	data          []byte
	answers       []string
}

func (m *deliveryMsg) Data() []byte { return m.data }
func (m *deliveryMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: 2}, nil
}
func (m *deliveryMsg) Ack() error  { m.answers = append(m.answers, "ack"); return nil }
func (m *deliveryMsg) Nak() error  { m.answers = append(m.answers, "nak"); return nil }
func (m *deliveryMsg) Term() error { m.answers = append(m.answers, "term"); return nil }
func (m *deliveryMsg) NakWithDelay(any time.Duration) error {
	m.answers = append(m.answers, "nak with delay")
	return nil
}

// A task delivered again while the worker still claims or runs it (a
// stall let its ack wait pass) is left to the first delivery: no second
// claim (the control plane would grant a process its own claim again when
// it says it does not run it), and no answer that would end the message
// under the running attempt.
func TestDeliveryAgainOfATaskTheWorkerHasIsLeftAlone(t *testing.T) {
	in := intent.Intent{ID: "int_again", Type: "query_knowledge", Attempts: 1}
	body, _ := json.Marshal(taskMsg{Intent: in, TimeoutMS: 1000})
	for _, has := range []string{"runs", "claims"} {
		// No connection: a claim request would fail the test.
		w := &Worker{o: WorkerOptions{Name: "w", Logger: slog.New(slog.DiscardHandler)}, running: map[string]*task{}, claiming: map[string]bool{}}
		key := attemptKey(in.ID, in.Attempts)
		if has == "runs" {
			w.running[key] = &task{cancel: func(error) {}}
		} else {
			w.claiming[key] = true
		}
		m := &deliveryMsg{data: body}
		w.handle(context.Background(), m)
		if len(m.answers) != 0 {
			t.Errorf("worker that %s the attempt answered %v on its second delivery, want nothing", has, m.answers)
		}
		if _, ok := w.running[key]; ok != (has == "runs") || w.claiming[key] != (has == "claims") {
			t.Errorf("worker that %s the attempt: running %v, claiming %v after the second delivery, want them unchanged", has, ok, w.claiming[key])
		}
	}
}
