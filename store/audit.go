package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// The audit chain. Entry seq N stores its canonical text verbatim in
// audit.entry and
//
//	hash = hex(sha256(prev_hash || entry))
//
// where prev_hash is entry N-1's hash (64 ASCII '0's for the first entry)
// and || is plain concatenation of the two ASCII/UTF-8 strings. The entry
// text is compact JSON with the keys in exactly this order:
//
//	{"seq":N,"ts":"<RFC 3339, UTC, nanoseconds>","actor":"<who>",
//	 "action":"<what>","resource":"<where>","result":"<result>",
//	 "intent_id":"<intent id or empty>","narrative_id":N,"digest":"<hex>"}
//
// (shown wrapped; stored on one line). Strings escape '"', '\\' and control
// characters; the text never holds a newline. The digest binds the entry to
// its narrative and clarity rows: hex(sha256(D)) where D is the compact JSON
// array
//
//	[ts, who, what, where, why, how, context, intent_id, result,
//	 confidence, risk, transparency, reasoning]
//
// of the narrative row's columns and the clarity row's columns: ts (Unix
// nanoseconds) as an integer; confidence and risk in Go's shortest float
// form (strconv 'g', -1); every other column, including the JSON texts why,
// context and reasoning, as a JSON string of the stored text. (The row's id
// is bound by the entry's narrative_id.)

// genesisHash is the prev_hash of the first entry.
var genesisHash = strings.Repeat("0", 64)

// chainHash returns hex(sha256(prev || entry)).
func chainHash(prev string, entry []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(entry)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// narrative is one record as its narrative and clarity rows store it.
type narrative struct {
	ID           int64
	TS           int64
	Who          string
	What         string
	Where        string
	Why          string // JSON array
	How          string
	Context      string // JSON object
	IntentID     string
	Result       string
	Confidence   float64
	Risk         float64
	Transparency string
	Reasoning    string // JSON array
}

// appendDigestInput appends D, the text the entry's digest is taken over.
func (n *narrative) appendDigestInput(b []byte) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, n.TS, 10)
	for _, s := range [...]string{n.Who, n.What, n.Where, n.Why, n.How, n.Context, n.IntentID, n.Result} {
		b = append(b, ',')
		b = appendString(b, s)
	}
	b = append(b, ',')
	b = appendFloat(b, n.Confidence)
	b = append(b, ',')
	b = appendFloat(b, n.Risk)
	b = append(b, ',')
	b = appendString(b, n.Transparency)
	b = append(b, ',')
	b = appendString(b, n.Reasoning)
	return append(b, ']')
}

// digest returns hex(sha256(D)); scratch is reused between calls.
func (n *narrative) digest(scratch []byte) (string, []byte) {
	scratch = n.appendDigestInput(scratch[:0])
	sum := sha256.Sum256(scratch)
	return hex.EncodeToString(sum[:]), scratch
}

// appendEntry appends the canonical entry text for n at seq.
func (n *narrative) appendEntry(b []byte, seq int64, digest string) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, `,"ts":`...)
	b = appendString(b, time.Unix(0, n.TS).UTC().Format(time.RFC3339Nano))
	b = append(b, `,"actor":`...)
	b = appendString(b, n.Who)
	b = append(b, `,"action":`...)
	b = appendString(b, n.What)
	b = append(b, `,"resource":`...)
	b = appendString(b, n.Where)
	b = append(b, `,"result":`...)
	b = appendString(b, n.Result)
	b = append(b, `,"intent_id":`...)
	b = appendString(b, n.IntentID)
	b = append(b, `,"narrative_id":`...)
	b = strconv.AppendInt(b, n.ID, 10)
	b = append(b, `,"digest":"`...)
	b = append(b, digest...)
	return append(b, '"', '}')
}

// auditEntry is the parsed form of an entry text, for verification.
type auditEntry struct {
	Seq         int64  `json:"seq"`
	TS          string `json:"ts"`
	Actor       string `json:"actor"`
	Action      string `json:"action"`
	Resource    string `json:"resource"`
	Result      string `json:"result"`
	IntentID    string `json:"intent_id"`
	NarrativeID int64  `json:"narrative_id"`
	Digest      string `json:"digest"`
}
