package chaos

import (
	"testing"

	"grace/engine"
	"grace/engine/clarity"
)

// TestRanAfterCancel: an intent's records show it ran again after its
// cancel when a dispatch or a completion follows the intent_cancelled
// record, in record order whatever order they are given in.
func TestRanAfterCancel(t *testing.T) {
	e := func(id int64, what string) clarity.Entry {
		return clarity.Entry{ID: id, Record: clarity.Record{What: what}}
	}
	for _, tc := range []struct {
		name string
		es   []clarity.Entry
		want bool
	}{
		{"cancelled while running", []clarity.Entry{e(1, engine.WhatDispatched), e(2, engine.WhatCancelled), e(3, engine.WhatStaleDiscarded)}, false},
		{"cancelled before it ran", []clarity.Entry{e(1, engine.WhatReceived), e(2, engine.WhatCancelled)}, false},
		{"dispatched again", []clarity.Entry{e(1, engine.WhatDispatched), e(2, engine.WhatCancelled), e(3, engine.WhatDispatched)}, true},
		{"completed after", []clarity.Entry{e(4, engine.WhatCompleted), e(2, engine.WhatCancelled), e(1, engine.WhatDispatched)}, true},
		{"completed before", []clarity.Entry{e(3, engine.WhatCancelled), e(2, engine.WhatCompleted), e(1, engine.WhatDispatched)}, false},
	} {
		if got := ranAfterCancel(tc.es); got != tc.want {
			t.Errorf("%s: ranAfterCancel = %v, want %v", tc.name, got, tc.want)
		}
	}
}
