package engine_test

import (
	"path/filepath"
	"testing"

	"grace/engine"
	"grace/store"
)

// TestStoreBatchMaxBoundIsTheStores checks that Validate's bound on
// store.batch_max is the store's own: what Validate accepts opens, and
// what the store would refuse on opening is refused with the other keys.
func TestStoreBatchMaxBoundIsTheStores(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1 << 16, 1<<16 + 1} {
		cfg := engine.Default()
		cfg.Store.BatchMax = n
		verr := cfg.Validate()
		st, oerr := store.Open(t.Context(), filepath.Join(t.TempDir(), "grace.db"), store.Options{BatchMax: n})
		if oerr == nil {
			_ = st.Close()
		}
		if (verr == nil) != (oerr == nil) {
			t.Fatalf("store.batch_max %d: Validate says %v, store.Open says %v", n, verr, oerr)
		}
	}
}
