package enginetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"grace/engine/clarity"
	"grace/engine/intent"
)

// appendLocked stores recs as entries with increasing IDs and a SHA-256
// chain over their JSON, like the real audit chain in spirit.
func (s *Store) appendLocked(recs []clarity.Record) {
	for _, r := range recs {
		r.Why = append([]string(nil), r.Why...)
		b, _ := json.Marshal(r) // records hold JSON-able values; an error only weakens the fake hash
		h := sha256.New()
		h.Write(s.prev[:])
		h.Write(b)
		copy(s.prev[:], h.Sum(nil))
		n := int64(len(s.entries) + 1)
		s.entries = append(s.entries, clarity.Entry{Record: r, ID: n, Seq: n, Hash: hex.EncodeToString(s.prev[:])})
	}
}

// Put stores in as it is, bypassing every rule (a test's way to fake a
// database written by an older or a crashed engine, or tampered with).
func (s *Store) Put(in intent.Intent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.intents[in.ID]; !ok {
		s.order = append(s.order, in.ID)
	}
	s.intents[in.ID] = clone(in)
	if in.IdempotencyKey != "" {
		s.keys[actorKey(in.Actor, in.IdempotencyKey)] = in.ID
	}
}

// Intents returns every intent, oldest first.
func (s *Store) Intents() []intent.Intent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]intent.Intent, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, clone(s.intents[id]))
	}
	return out
}

// Records returns every record written, oldest first.
func (s *Store) Records() []clarity.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]clarity.Record, len(s.entries))
	for i, e := range s.entries {
		out[i] = cloneEntry(e).Record
	}
	return out
}

// RecordsFor returns the records of one intent's story, oldest first.
func (s *Store) RecordsFor(intentID string) []clarity.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []clarity.Record
	for _, e := range s.entries {
		if e.IntentID == intentID {
			out = append(out, cloneEntry(e).Record)
		}
	}
	return out
}

// Count returns how many records have the What.
func (s *Store) Count(what string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.entries {
		if e.What == what {
			n++
		}
	}
	return n
}
