package httpapi

import (
	"net/http"
	"strings"
	"testing"
)

// TestContextNumbersKeptAsWritten: a context number a float64 cannot
// keep as written (a 64-bit build number) is refused 400 wrong_type
// naming its place, nothing stored, its digits not repeated; it was
// stored as 12345678901234567000, a different number, answered 202.
// Numbers a float64 keeps are stored as their value (found by
// FuzzSubmitBody).
func TestContextNumbersKeptAsWritten(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	for _, tc := range []struct{ path, body, field string }{
		{"/v1/intents", `{"type":"query_knowledge","context":{"build":12345678901234567891}}`, "context.build"},
		{"/v1/intents", `{"type":"query_knowledge","context":{"l":[1,{"t":0.30000000000000001}]}}`, "context.l[1].t"},
		{"/v1/intents", `{"type":"query_knowledge","context":{"tiny":1e-400}}`, "context.tiny"},
		{"/v1/intents/batch", `{"intents":[{"type":"query_knowledge","context":{"id":9007199254740993}}]}`, "intents[0].context.id"},
	} {
		er := b.do(t, agentB, "POST", tc.path, tc.body).wantError(t, http.StatusBadRequest, CodeWrongType)
		if er.Error.Field != tc.field || !strings.Contains(er.Error.Message, "send it as a string") {
			t.Errorf("%s: %+v, want field %s and how to keep the digits", tc.body, er.Error, tc.field)
		}
		for _, digits := range []string{"12345678901", "30000000000000001", "1e-400", "9007199254740993"} {
			if strings.Contains(er.Error.Message, digits) {
				t.Errorf("%s: the answer repeats the number: %s", tc.body, er.Error.Message)
			}
		}
	}
	if n := len(b.store.Intents()); n != 0 {
		t.Fatalf("%d intents stored by refused submissions", n)
	}
	r := b.submit(t, agentB, `{"type":"query_knowledge","context":{"n":9007199254740992,"ratio":0.1,"x":[1.50,-0,1e300,2E-308]}}`)
	got := b.state(t, r.ID).Context
	if got["n"] != float64(9007199254740992) || got["ratio"] != 0.1 || got["x"].([]any)[1] != float64(0) || got["x"].([]any)[2] != 1e300 {
		t.Fatalf("context stored as %v", got)
	}
}

// TestDuplicateEmptyNameIsNamed: the empty name given twice in an object
// is refused naming it and where; the message read "context. is given
// twice".
func TestDuplicateEmptyNameIsNamed(t *testing.T) {
	t.Parallel()
	b := setupReal(t)
	er := b.do(t, agentB, "POST", "/v1/intents", `{"type":"query_knowledge","context":{"":1,"":2}}`).wantError(t, http.StatusBadRequest, CodeDuplicateField)
	if want := `the name "" in context is given twice`; !strings.HasPrefix(er.Error.Message, want) {
		t.Fatalf("message %q, want it to start %q", er.Error.Message, want)
	}
}
