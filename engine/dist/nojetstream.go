package dist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"grace/engine"
)

// ErrNoJetStream is why a control plane or a worker cannot use a NATS
// server that does not run JetStream (a plain nats-server answers no
// JetStream request: "no responders").
var ErrNoJetStream = errors.New("JetStream is not enabled on the NATS server")

// noJetStream returns err, which a JetStream request on nc failed with,
// told as ErrNoJetStream when the server (or the account nc uses) has no
// JetStream: naming the server, its URL's secrets masked
// (engine.MaskURL), and how to enable it. Any other err is returned as
// it is.
func noJetStream(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, err error) error {
	if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, jetstream.ErrJetStreamNotEnabled) &&
		!errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, aerr := js.AccountInfo(ctx)
	at := engine.MaskURL(nc.ConnectedUrl())
	switch {
	case errors.Is(aerr, jetstream.ErrJetStreamNotEnabledForAccount):
		return fmt.Errorf("%w for the account used at %s: enable JetStream for that account in the server's config (a jetstream block in the account), or connect as one that has it",
			ErrNoJetStream, at)
	case errors.Is(aerr, jetstream.ErrJetStreamNotEnabled):
		return fmt.Errorf("%w at %s: run nats-server with JetStream enabled (nats-server -js, or a jetstream {} block in its config); backend.nats.url: embedded runs one in grace serve",
			ErrNoJetStream, at)
	}
	return err
}
