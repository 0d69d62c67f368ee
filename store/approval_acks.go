package store

import (
	"context"
	"fmt"
	"strings"

	"grace/engine"
	"grace/engine/intent"
)

// The store keeps the approval requests each webhook acknowledged (schema
// migration 10, table approval_acks): one row per webhook and intent, for
// as long as the intent waits for approval. Rows are written by the
// writer, each batch in one statement of a group commit (they carry no
// record: an acknowledged delivery is no decision of Grace's, and the
// record already tells what the intent became); the migration's triggers
// delete an intent's rows in the transaction that moves it out of
// pending_approval or deletes it, and ForgetApprovalAcks those of the
// webhooks no longer configured. It implements engine.ApprovalAckStore.
var _ engine.ApprovalAckStore = (*Store)(nil)

// maxAcksPerStatement bounds the rows of one insert (3 values each, well
// under SQLite's 32766 variables).
const maxAcksPerStatement = 500

// SaveApprovalAcks writes acks in the writer's next group commit and
// returns once they are durable. An ack whose intent is not pending
// approval as it is written (decided meanwhile, or unknown) is left out:
// its row would outlive what it is about. An ack with an empty webhook or
// intent ID writes nothing and is refused, naming it.
func (s *Store) SaveApprovalAcks(ctx context.Context, acks []engine.ApprovalAck) error {
	for i, a := range acks {
		if strings.TrimSpace(a.Webhook) == "" || strings.TrimSpace(a.IntentID) == "" {
			return fmt.Errorf("save approval acknowledgements: ack %d (webhook %q, intent %q): webhook and intent ID are required", i, a.Webhook, a.IntentID)
		}
	}
	for len(acks) > 0 {
		chunk := acks[:min(len(acks), maxAcksPerStatement)]
		acks = acks[len(chunk):]
		args := make([]any, 0, 3*len(chunk))
		for _, a := range chunk {
			args = append(args, a.Webhook, a.IntentID, a.At.UnixNano())
		}
		q := `INSERT OR REPLACE INTO approval_acks(webhook, intent_id, acked_at)
	SELECT a.column1, a.column2, a.column3 FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?),", len(chunk)), ",") + `) AS a
	JOIN intents ON intents.id = a.column2 AND intents.state = '` + string(intent.StatePendingApproval) + `'`
		if _, err := s.sideWrite(ctx, q, args...); err != nil {
			return fmt.Errorf("save approval acknowledgements to %s: %w", s.path, err)
		}
	}
	return nil
}

// ApprovalAcks returns the intents each webhook acknowledged, by webhook
// name as written.
func (s *Store) ApprovalAcks(ctx context.Context) (map[string]map[string]struct{}, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT webhook, intent_id FROM approval_acks")
	if err != nil {
		return nil, fmt.Errorf("read approval acknowledgements: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]struct{}{}
	for rows.Next() {
		var w, id string
		if err := rows.Scan(&w, &id); err != nil {
			return nil, fmt.Errorf("read approval acknowledgements: %w", err)
		}
		if out[w] == nil {
			out[w] = map[string]struct{}{}
		}
		out[w][id] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read approval acknowledgements: %w", err)
	}
	return out, nil
}

// ForgetApprovalAcks deletes, in the writer's next group commit, the
// acknowledgements of every webhook not named in keep (all when keep is
// empty), and any whose intent no longer waits for approval (the
// triggers delete those as the intent changes; this is a second guard),
// and says how many rows went.
func (s *Store) ForgetApprovalAcks(ctx context.Context, keep []string) (int64, error) {
	q := `DELETE FROM approval_acks WHERE intent_id NOT IN (SELECT id FROM intents WHERE state = '` + string(intent.StatePendingApproval) + `')`
	args := make([]any, len(keep))
	if len(keep) > 0 {
		q += " OR webhook NOT IN (" + strings.TrimSuffix(strings.Repeat("?,", len(keep)), ",") + ")"
		for i, w := range keep {
			args[i] = w
		}
	} else {
		q += " OR 1"
	}
	n, err := s.sideWrite(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("forget approval acknowledgements in %s: %w", s.path, err)
	}
	return n, nil
}

// sideWrite runs one statement q in the writer's next group commit, with
// no record, and returns once it is durable, with the rows it changed.
func (s *Store) sideWrite(ctx context.Context, q string, args ...any) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	req, err := newRequest(&intent.Change{}, s.opts.Clock.Now())
	if err != nil {
		return 0, err
	}
	var n int64
	req.side = func(c *wconn) error {
		var err error
		n, err = c.execOnce(q, args...)
		return err
	}
	if _, err := s.applyRequest(ctx, req); err != nil {
		return 0, err
	}
	return n, nil
}
