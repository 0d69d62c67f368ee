package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"time"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// Times a record may carry: the range Unix nanoseconds can hold.
var (
	minRecordTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxRecordTime = time.Date(2261, 12, 31, 0, 0, 0, 0, time.UTC)
)

// Record writes the records in one transaction, each as a narrative row, a
// clarity row and an audit entry, and returns once they are durable. It is
// Apply with a Change that holds only records; see Apply for ctx.
func (s *Store) Record(ctx context.Context, recs ...clarity.Record) error {
	if len(recs) == 0 {
		return nil
	}
	_, err := s.Apply(ctx, &intent.Change{Records: recs})
	return err
}

// checkRecord reports why r cannot be stored faithfully, or nil.
func checkRecord(r *clarity.Record) error {
	var why []string
	if strings.TrimSpace(r.Who) == "" {
		why = append(why, "who is empty")
	}
	if strings.TrimSpace(r.What) == "" {
		why = append(why, "what is empty")
	}
	if bad(r.Confidence) {
		why = append(why, "confidence is not a finite number")
	}
	if bad(r.Risk) {
		why = append(why, "risk is not a finite number")
	}
	if !r.When.IsZero() && (r.When.Before(minRecordTime) || r.When.After(maxRecordTime)) {
		why = append(why, "when is outside the years 1678-2261")
	}
	if why != nil {
		return fmt.Errorf("%w (%s/%s): %s", ErrInvalidRecord, r.Who, r.What, strings.Join(why, ", "))
	}
	return nil
}

func bad(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }

// prepared is a record made ready for the writer: encoded, checked and
// digested in the submitter's goroutine, so that the one writer goroutine
// only numbers, chains and inserts it.
type prepared struct {
	narrative // ID is set by the writer
	digest    string
	// The row values, boxed here rather than on the writer's goroutine:
	// narratives' ts…result and clarity's confidence…reasoning.
	nvals [9]driver.Value
	cvals [4]driver.Value
}

// prepareChange checks c and prepares its records; now stands in for a
// zero When. An error means c can never apply.
func prepareChange(c *intent.Change, now time.Time) ([]prepared, error) {
	switch {
	case c == nil:
		return nil, fmt.Errorf("%w: nil change", ErrInvalidChange)
	case c.Create != nil && c.Update != nil:
		return nil, fmt.Errorf("%w: both Create and Update are set", ErrInvalidChange)
	case c.Create != nil && c.Create.ID == "", c.Update != nil && c.Update.ID == "":
		return nil, fmt.Errorf("%w: an intent without an ID", ErrInvalidChange)
	}
	out := make([]prepared, len(c.Records))
	var buf []byte
	for i := range c.Records {
		r := &c.Records[i]
		if err := checkRecord(r); err != nil {
			return nil, err
		}
		p := &out[i]
		buf = toNarrative(&p.narrative, r, now, buf)
		p.digest, buf = p.narrative.digest(buf)
		n := &p.narrative
		p.nvals = [...]driver.Value{n.TS, n.Who, n.What, n.Where, n.Why, n.How, n.Context, n.IntentID, n.Result}
		p.cvals = [...]driver.Value{n.Confidence, n.Risk, n.Transparency, n.Reasoning}
	}
	return out, nil
}

// toNarrative fills n from r; now stands in for a zero When. buf is scratch
// space whose reuse saves allocations.
func toNarrative(n *narrative, r *clarity.Record, now time.Time, buf []byte) []byte {
	when := r.When
	if when.IsZero() {
		when = now
	}
	n.TS = when.UnixNano()
	n.Who, n.What, n.Where, n.How = r.Who, r.What, r.Where, r.How
	n.IntentID, n.Result, n.Transparency = r.IntentID, r.Result, r.Transparency
	// SQLite keeps -0.0 as 0; normalise so the digest reads back the same.
	n.Confidence, n.Risk = r.Confidence, r.Risk
	if n.Confidence == 0 {
		n.Confidence = 0
	}
	if n.Risk == 0 {
		n.Risk = 0
	}
	buf = appendStrings(buf[:0], r.Why)
	n.Why = string(buf)
	n.Reasoning = n.Why
	buf = appendObject(buf[:0], r.Context)
	n.Context = string(buf)
	return buf
}
