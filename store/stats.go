package store

import (
	"os"
	"sync/atomic"
)

// Stats are the writer's running totals since Open, for telemetry and
// benchmarks. Reading them costs a few atomic loads.
type Stats struct {
	// Batches is the number of group commits, Changes and Records what
	// they held (failed batches included).
	Batches int64 `json:"batches"`
	Changes int64 `json:"changes"`
	Records int64 `json:"records"`
	// FailedBatches is the number of batches whose transaction failed.
	FailedBatches int64 `json:"failed_batches"`
	// IndexSteps and IndexedRows count full-text catch-up steps and rows.
	IndexSteps  int64 `json:"index_steps"`
	IndexedRows int64 `json:"indexed_rows"`
	// IndexLag is IndexLag() at the time of the call.
	IndexLag int64 `json:"index_lag"`
}

// counters are the atomics behind Stats.
type counters struct {
	batches, changes, records, failed, indexSteps, indexedRows atomic.Int64
}

// Stats returns the writer's totals; a read-only store reports zeros but
// for IndexLag.
func (s *Store) Stats() Stats {
	c := &s.counters
	return Stats{
		Batches: c.batches.Load(), Changes: c.changes.Load(), Records: c.records.Load(),
		FailedBatches: c.failed.Load(), IndexSteps: c.indexSteps.Load(),
		IndexedRows: c.indexedRows.Load(), IndexLag: s.IndexLag(),
	}
}

// FileSizes returns the size in bytes of each of the store's files that
// exists: the database ("db"), its write-ahead log ("wal"), the full-text
// index ("search") and the index's log ("search_wal").
func (s *Store) FileSizes() map[string]int64 {
	out := make(map[string]int64, 4)
	for name, path := range map[string]string{
		"db": s.path, "wal": s.path + "-wal", "search": searchPath(s.path), "search_wal": searchPath(s.path) + "-wal",
	} {
		if fi, err := os.Stat(path); err == nil {
			out[name] = fi.Size()
		}
	}
	return out
}
