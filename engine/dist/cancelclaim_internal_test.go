package dist

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"grace/engine/intent"
)

// taskDelivery is a task message as a worker's slot receives it; it
// records what the worker answers on it.
type taskDelivery struct {
	jetstream.Msg // not called: panics if it is
	data          []byte
	answers       chan string
}

func (m *taskDelivery) Data() []byte { return m.data }
func (m *taskDelivery) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: 1}, nil
}
func (m *taskDelivery) Ack() error                       { m.answers <- "ack"; return nil }
func (m *taskDelivery) DoubleAck(context.Context) error  { m.answers <- "ack"; return nil }
func (m *taskDelivery) Nak() error                       { m.answers <- "nak"; return nil }
func (m *taskDelivery) NakWithDelay(time.Duration) error { m.answers <- "nak"; return nil }
func (m *taskDelivery) Term() error                      { m.answers <- "term"; return nil }
func (m *taskDelivery) InProgress() error                { return nil }
func (m *taskDelivery) TermWithReason(string) error      { m.answers <- "term"; return nil }

// A cancel that reaches a worker while its claim's answer is on its way
// (the control plane granted the claim, then stopped the attempt, and the
// cancel overtook the answer) keeps the handler from starting: the worker
// tells the control plane the attempt ended, not run, and terminates the
// message. The cancel found no running attempt and was dropped: the
// handler started, for a cancelled intent (an exec handler's program
// ran), until a heartbeat's reconciliation told the worker again.
func TestCancelOvertakingTheClaimsAnswerKeepsTheHandlerFromStarting(t *testing.T) {
	nc := natsConn(t, natsServer(t))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureStream(context.Background(), js, StreamOptions{AckWait: 30 * time.Second, MaxDeliver: 5, Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	h := startedStopped{started: make(chan string, 1), stopped: make(chan string, 1)}
	w, err := NewWorker(context.Background(), nc, WorkerOptions{Name: "w", Host: "host-w", Handlers: h, HeartbeatInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	in := intent.Intent{ID: "int_overtaken", Type: "query_knowledge", Attempts: 1}
	// The control plane: it grants the claim, the cancel overtaking the
	// answer; it refuses the result, the attempt being stopped.
	cancelBody, _ := json.Marshal(cancelMsg{ID: in.ID, Attempt: in.Attempts})
	claimSub, err := nc.Subscribe(subjectClaim, func(m *nats.Msg) {
		w.onCancel(&nats.Msg{Subject: subjectCancel, Data: cancelBody})
		b, _ := json.Marshal(claimReply{Granted: true, Token: 1})
		_ = m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = claimSub.Unsubscribe() }()
	results := make(chan resultReq, 1)
	resultSub, err := nc.Subscribe(subjectResult, func(m *nats.Msg) {
		var r resultReq
		_ = json.Unmarshal(m.Data, &r)
		results <- r
		b, _ := json.Marshal(resultReply{Reason: "stopped"})
		_ = m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resultSub.Unsubscribe() }()

	body, _ := json.Marshal(taskMsg{Intent: in, TimeoutMS: 60_000})
	msg := &taskDelivery{data: body, answers: make(chan string, 4)}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	go func() { defer close(done); w.handle(ctx, msg) }()
	select {
	case <-done:
	case <-h.started:
		t.Error("the handler started, although the attempt was cancelled before its claim's answer came")
		stop() // let it return
		<-done
		return
	case <-time.After(10 * time.Second): // a hang bound
		t.Fatal("the worker neither started the handler nor ended the attempt")
	}
	select {
	case r := <-results:
		if r.Error == "" || r.Token != 1 {
			t.Errorf("result %+v, want the attempt reported ended unrun, with its token", r)
		}
	default:
		t.Error("the control plane was not told the attempt ended")
	}
	if a := <-msg.answers; a != "term" {
		t.Errorf("the message was answered %s, want term", a)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.running) != 0 || len(w.claiming) != 0 || len(w.stopped) != 0 {
		t.Errorf("left behind: running %v, claiming %v, stopped %v", w.running, w.claiming, w.stopped)
	}
}
