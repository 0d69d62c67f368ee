package dist

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamOptions shape the task stream and its consumers.
type StreamOptions struct {
	// AckWait is how long a delivered task may go unacknowledged.
	AckWait time.Duration
	// MaxDeliver bounds deliveries of one message.
	MaxDeliver int
	// Replicas is the stream's replication factor.
	Replicas int
}

// EnsureStream creates (or updates) the work-queue stream GRACE_TASKS on
// grace.tasks.p0..p9 and one durable pull consumer per band, and returns
// the consumers indexed by band. Messages are de-duplicated by ID for two
// minutes, so that a publish retried after a lost acknowledgement is one
// task.
func EnsureStream(ctx context.Context, js jetstream.JetStream, o StreamOptions) ([Bands]jetstream.Consumer, error) {
	var cons [Bands]jetstream.Consumer
	subjects := make([]string, Bands)
	for b := range Bands {
		subjects[b] = TaskSubject(b)
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: StreamName, Subjects: subjects, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		Replicas: max(o.Replicas, 1), Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return cons, fmt.Errorf("create stream %s (replicas %d): %w", StreamName, o.Replicas, err)
	}
	for b := range Bands {
		c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
			Durable: consumerName(b), FilterSubject: TaskSubject(b), AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: o.AckWait, MaxDeliver: o.MaxDeliver, Replicas: max(o.Replicas, 1),
		})
		if err != nil {
			return cons, fmt.Errorf("create consumer %s on %s: %w", consumerName(b), StreamName, err)
		}
		cons[b] = c
	}
	return cons, nil
}

// bindConsumers returns the existing band consumers (a worker's view: the
// control plane created them).
func bindConsumers(ctx context.Context, js jetstream.JetStream) ([Bands]jetstream.Consumer, error) {
	var cons [Bands]jetstream.Consumer
	for b := range Bands {
		c, err := js.Consumer(ctx, StreamName, consumerName(b))
		if err != nil {
			return cons, fmt.Errorf("find consumer %s on stream %s (is the control plane running with backend.kind nats?): %w",
				consumerName(b), StreamName, err)
		}
		cons[b] = c
	}
	return cons, nil
}
