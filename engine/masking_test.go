package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"grace/engine/clarity"
	"grace/engine/intent"
	"grace/engine/worker"
)

func TestMaskerHidesNamedKeysAndPointers(t *testing.T) {
	t.Parallel()
	m := newMasker([]string{"password", "API_KEY", "/payload/db/dsn", "/context/ticket/0", "/payload/a~1b"})
	for _, tc := range []struct {
		name, in, want string
		hits           []string
	}{
		{"nothing to mask keeps the bytes", `{"q":"x",  "n":1}`, `{"q":"x",  "n":1}`, nil},
		{"a key at the top", `{"password":"hunter2","user":"u"}`, `{"password":"[masked]","user":"u"}`, []string{"/payload/password"}},
		{"case is ignored", `{"Password":"hunter2"}`, `{"Password":"[masked]"}`, []string{"/payload/Password"}},
		{"at any depth, in arrays", `{"users":[{"api_key":"k1"},{"name":"n"}]}`, `{"users":[{"api_key":"[masked]"},{"name":"n"}]}`, []string{"/payload/users/0/api_key"}},
		{"a whole object under a masked key", `{"password":{"old":"a","new":"b"}}`, `{"password":"[masked]"}`, []string{"/payload/password"}},
		{"a pointer", `{"db":{"dsn":"postgres://u:p@h","pool":3}}`, `{"db":{"dsn":"[masked]","pool":3}}`, []string{"/payload/db/dsn"}},
		{"a pointer elsewhere does not match", `{"dsn":"x","other":{"dsn":"y"}}`, `{"dsn":"x","other":{"dsn":"y"}}`, nil},
		{"an escaped pointer token", `{"a/b":"s"}`, `{"a/b":"[masked]"}`, []string{"/payload/a~1b"}},
		{"an escaped key name is still found", `{"pass\u0077ord":"hunter2"}`, `{"password":"[masked]"}`, []string{"/payload/password"}},
		{"numbers keep their form", `{"password":"p","big":12345678901234567890}`, `{"big":12345678901234567890,"password":"[masked]"}`, []string{"/payload/password"}},
		{"another separator names the same key", `{"Api-Key":"k1","api.key":"k2","x":{"API KEY":"k3"}}`,
			`{"Api-Key":"[masked]","api.key":"[masked]","x":{"API KEY":"[masked]"}}`, []string{"/payload/Api-Key", "/payload/api.key", "/payload/x/API KEY"}},
		{"camelCase and run-together spellings name the same key", `{"apiKey":"k1","APIKEY":"k2","pass_word":"p","q":"apikey"}`,
			`{"APIKEY":"[masked]","apiKey":"[masked]","pass_word":"[masked]","q":"apikey"}`, []string{"/payload/APIKEY", "/payload/apiKey", "/payload/pass_word"}},
		{"a non-ASCII key that lower-cases to a masked name", "{\"api_\u212aey\":\"k\"}", "{\"api_\u212aey\":\"[masked]\"}",
			[]string{"/payload/api_\u212aey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, hits := m.payload(json.RawMessage(tc.in))
			if string(got) != tc.want || !slices.Equal(hits, tc.hits) {
				t.Fatalf("payload(%s) = %s %v, want %s %v", tc.in, got, hits, tc.want, tc.hits)
			}
		})
	}
	ctx := map[string]any{"ticket": []any{"T-1", "T-2"}, "secret_level": 3, "api_key": "k"}
	got, hits := m.context(ctx)
	if !slices.Equal(hits, []string{"/context/api_key", "/context/ticket/0"}) || got["api_key"] != MaskedValue {
		t.Fatalf("context = %v %v", got, hits)
	}
	if ctx["api_key"] != "k" || ctx["ticket"].([]any)[0] != "T-1" {
		t.Fatalf("masking changed the original context: %v", ctx)
	}
}

func TestValidateMaskingNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ field, want string }{
		{"", "masking.fields[0] is empty"},
		{"/db/password", "must start with /payload/ or /context/"},
		{"/payload", "must start with /payload/ or /context/"},
		{"/payload/a~2", "not ~0 or ~1"},
		{"_-.", "is only separators"},
	} {
		errs := validateMasking([]string{tc.field})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("validateMasking(%q) = %v, want %q", tc.field, errs, tc.want)
		}
	}
	if errs := validateMasking([]string{"password", "/payload/db/dsn", "/context/x"}); len(errs) != 0 {
		t.Fatalf("valid fields refused: %v", errs)
	}
}

// TestMaskedValuesNeverLeaveTheEngine submits intents carrying secrets in
// their payload and context and looks for the secret everywhere a person
// could read: every record, narrative search, Submit's answer, Get, List,
// Pending, events, decisions. The handler must still get it.
func TestMaskedValuesNeverLeaveTheEngine(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-Sup3rS3cret"
	b := setup(t)
	var mu sync.Mutex
	handled := map[string]string{}
	for _, typ := range []string{"query_knowledge", "emergency_recovery", "change_charter"} {
		b.handlers.set(typ, func(_ context.Context, in intent.Intent) error {
			mu.Lock()
			handled[in.ID] = string(in.Payload) + " " + mustJSON(t, in.Context)
			mu.Unlock()
			return nil
		})
	}
	b.start(t)
	payload := json.RawMessage(`{"db":{"user":"app","password":"` + secret + `"},"q":"status"}`)
	mission := map[string]any{"resilience_impact": true, "api_key": secret}
	var ids []string
	for _, typ := range []string{"query_knowledge", "emergency_recovery", "change_charter"} {
		res, err := b.e.Submit(t.Context(), intent.Submission{Type: typ, Actor: "agent.x", Payload: payload, Context: mission})
		if err != nil {
			t.Fatal(err)
		}
		noSecret(t, "Submit's answer for "+typ, res.Intent)
		ids = append(ids, res.Intent.ID)
	}
	b.waitState(t, ids[0], intent.StateCompleted)
	b.waitState(t, ids[1], intent.StateCompleted)
	approved, err := b.e.Approve(t.Context(), ids[2], "alice", "ok")
	if err != nil {
		t.Fatal(err)
	}
	noSecret(t, "Approve's answer", approved)
	b.waitState(t, ids[2], intent.StateCompleted)

	for _, id := range ids {
		mu.Lock()
		got := handled[id]
		mu.Unlock()
		if strings.Count(got, secret) != 2 {
			t.Fatalf("the handler of %s did not get the real values: %s", id, got)
		}
		in, err := b.e.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		noSecret(t, "Get", in)
		if !strings.Contains(string(in.Payload), MaskedValue) || in.Context["api_key"] != MaskedValue || in.Context["resilience_impact"] != true {
			t.Fatalf("Get shows %s %v", in.Payload, in.Context)
		}
		if stored := b.stored(t, id); !strings.Contains(string(stored.Payload), secret) {
			t.Fatalf("the store lost the real payload: %s", stored.Payload)
		}
	}
	list, _ := b.e.List(t.Context(), intent.Filter{})
	noSecret(t, "List", list)
	noSecret(t, "events", b.seen)
	noSecret(t, "records", b.store.Records())
	noSecret(t, "Snapshot.Recent", b.e.Snapshot().Recent)
	found, err := b.e.Search(t.Context(), clarity.Query{Text: secret})
	if err != nil || len(found) != 0 {
		t.Fatalf("search for the secret found %d narratives (%v)", len(found), err)
	}
	recv := recordOf(t, b.store.RecordsFor(ids[0]), WhatReceived)
	fields, _ := recv.Context["masked_fields"].([]string)
	if !slices.Equal(fields, []string{"/payload/db/password", "/context/api_key"}) ||
		!strings.Contains(strings.Join(recv.Why, " "), "/payload/db/password") {
		t.Fatalf("the received record does not say what was masked: %+v", recv)
	}
	em := recordOf(t, b.store.RecordsFor(ids[1]), WhatEmergencyLogged)
	if !strings.Contains(mustJSON(t, em.Context), MaskedValue) || !strings.Contains(mustJSON(t, em.Context), `"q":"status"`) {
		t.Fatalf("the Tier 4 record should keep the payload, masked: %v", em.Context)
	}

	b2 := setup(t)
	b2.submit(t, intent.Submission{Type: "change_charter", Payload: payload})
	pending, _ := b2.e.Pending(t.Context())
	if len(pending) != 1 {
		t.Fatalf("pending = %d", len(pending))
	}
	noSecret(t, "Pending", pending)
}

func TestMaskingOffShowsEverything(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Masking.Fields = nil })
	in := b.submit(t, intent.Submission{Type: "change_charter", Payload: json.RawMessage(`{"password":"p"}`)})
	if string(in.Payload) != `{"password":"p"}` {
		t.Fatalf("payload = %s", in.Payload)
	}
	if _, ok := recordOf(t, b.store.RecordsFor(in.ID), WhatReceived).Context["masked_fields"]; ok {
		t.Fatal("nothing was masked, yet the record lists masked fields")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noSecret(t *testing.T, where string, v any) {
	t.Helper()
	if s := mustJSON(t, v); strings.Contains(s, "hunter2") {
		t.Fatalf("%s shows the secret: %s", where, s)
	}
}

// TestHandlerErrorsAreScrubbedOfMaskedValues has handlers fail with
// errors that quote their input, as an exec command echoing its stdin or
// a webhook quoting the request does: the masked values must not reach
// last_error, a record, an event or a search, while the rest of the error
// stays readable and a permanent error stays permanent.
func TestHandlerErrorsAreScrubbedOfMaskedValues(t *testing.T) {
	t.Parallel()
	const secret = "hunter2-Sup3rS3cret"
	b := setup(t, func(c *Config) { c.Workers.MaxAttempts = 2 })
	echo := func(_ context.Context, in intent.Intent) error {
		err := fmt.Errorf("exit status 3: stderr: %s %s", in.Payload, mustJSON(t, in.Context))
		if in.Type == "generate_summary" {
			return worker.Permanent(err)
		}
		return err
	}
	b.handlers.set("query_knowledge", echo)
	b.handlers.set("generate_summary", echo)
	b.start(t)
	payload := json.RawMessage(`{"q":"status","db":{"password":"` + secret + `","secret":73194},"token":["list-entry-9"]}`)
	ctxt := map[string]any{"api_key": `quote"` + secret}
	retried := b.submit(t, intent.Submission{Type: "query_knowledge", Payload: payload, Context: ctxt})
	permanent := b.submit(t, intent.Submission{Type: "generate_summary", Payload: payload, Context: ctxt})

	r := b.waitEvent(t, func(x intent.Intent) bool {
		return x.ID == retried.ID && x.State == intent.StateQueued && x.Attempts == 1
	}, "retry")
	b.clock.Advance(r.NotBefore.Sub(b.clock.Now()))
	failed := b.waitState(t, retried.ID, intent.StateFailed)
	failedAtOnce := b.waitState(t, permanent.ID, intent.StateFailed)
	if failedAtOnce.Attempts != 1 {
		t.Fatalf("a permanent error, scrubbed, was retried: %d attempts", failedAtOnce.Attempts)
	}
	for _, in := range []intent.Intent{failed, failedAtOnce, b.stored(t, failed.ID), b.stored(t, failedAtOnce.ID)} {
		noSecret(t, "last_error", in.LastError)
		noSecret(t, "last_error", strings.ReplaceAll(in.LastError, `\"`, `"`))
		if strings.Contains(in.LastError, "73194") || strings.Contains(in.LastError, "list-entry-9") {
			t.Fatalf("a masked number or array element shows in %q", in.LastError)
		}
		for _, want := range []string{"exit status 3", `"q":"status"`, MaskedValue} {
			if !strings.Contains(in.LastError, want) {
				t.Fatalf("last_error %q lost %q", in.LastError, want)
			}
		}
	}
	noSecret(t, "events", b.seen)
	noSecret(t, "records", b.store.Records())
	for _, q := range []string{secret, "73194", "entry"} {
		found, err := b.e.Search(t.Context(), clarity.Query{Text: q})
		if err != nil || len(found) != 0 {
			t.Fatalf("search for %q found %d narratives (%v)", q, len(found), err)
		}
	}
	if n := len(b.recordsOf(retried.ID, WhatRetryScheduled)); n != 1 {
		t.Fatalf("%d retry records, want 1", n)
	}
}

// TestScrubbedSecretsFoldSeparators: the values a handler's error is
// scrubbed of are found under a masked key spelled with another separator
// or case ("Api-Key", "api.key" for api_key), as the read views mask them.
func TestScrubbedSecretsFoldSeparators(t *testing.T) {
	t.Parallel()
	m := newMasker([]string{"api_key"})
	in := intent.Intent{Payload: json.RawMessage(`{"Api-Key":"k-payload-1","q":"x"}`), Context: map[string]any{"api.key": "k-context-2"}}
	got := m.secrets(in)
	slices.Sort(got)
	if !slices.Equal(got, []string{"k-context-2", "k-payload-1"}) {
		t.Fatalf("secrets = %q", got)
	}
	if s := m.scrubError(in, errors.New("echo: k-payload-1 k-context-2")).Error(); strings.Contains(s, "k-payload-1") || strings.Contains(s, "k-context-2") {
		t.Fatalf("scrubbed error %q", s)
	}
}
