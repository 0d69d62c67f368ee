package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/enginetest"
	"grace/engine/intent"
	"grace/engine/worker"
	"grace/store"
)

// fuzzRig is the real engine on a SQLite store on disk behind two real
// handlers (one with identities, one with the local token), with a fake
// chaos service (the real one runs scenarios: far too slow to fuzz). The
// fuzz targets drive the handlers directly (ServeHTTP on a recorder, no
// network) with requests built as net/http's server would build them.
type fuzzRig struct {
	e        *engine.Engine
	st       *store.Store
	ids      *Handler           // alice, bob (operators), agent.builder, val (viewer)
	local    *Handler           // the local token, testToken
	logs     *enginetest.Buffer // the handlers' error log
	logsRead int                // how much of logs newLogs has returned
	pending  string             // a change_charter intent pending approval (two-person)
	failed   string             // a failed intent (retryable)
	other    string             // alice's intent, pending approval: the agent's to leave alone
	silence  string             // an active silence
}

// The callers a fuzz input picks by a byte (fuzzCaller).
var fuzzCallers = []struct{ token, name string }{
	{opAlice, "alice"}, {opBob, "bob"}, {agentB, "agent.builder"}, {viewVal, "val"},
	{testToken, "local"}, {"", "nobody"}, {forged, "forged"},
}

func newFuzzRig(f *testing.F) *fuzzRig {
	f.Helper()
	cfg := engine.Default()
	cfg.DB = filepath.Join(f.TempDir(), "grace.db")
	cfg.Cortex.Enabled = false
	cfg.Governance.TwoPersonTypes = []string{"change_charter"}
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: worker.KindNoop}}
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	st, err := store.Open(context.Background(), cfg.DB, store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	runs := &runCounter{runs: map[string]int{}, seen: map[string]string{}}
	e, err := engine.New(cfg, engine.Deps{Store: st, Journal: st, Searcher: st, Clock: clock.Real{}, Handlers: runs})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(e.Stop)
	if err := e.Start(context.Background()); err != nil {
		f.Fatal(err)
	}
	logs := &enginetest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	ids := []Identity{
		{Name: "alice", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opAlice))},
		{Name: "bob", Role: engine.RoleOperator, TokenSHA256: sha256.Sum256([]byte(opBob))},
		{Name: "agent.builder", Role: engine.RoleAgent, TokenSHA256: sha256.Sum256([]byte(agentB))},
		{Name: "val", Role: engine.RoleViewer, TokenSHA256: sha256.Sum256([]byte(viewVal))},
	}
	chaos := &fakeChaos{}
	if _, err := chaos.StartChaos(context.Background(), engine.ChaosRequest{All: true, Operator: "seed"}); err != nil {
		f.Fatal(err)
	}
	chaos.finish(engine.ChaosPassed)
	rig := &fuzzRig{e: e, st: st, logs: logs,
		ids:   NewHandler(e, Options{Identities: ids, MaxBodyBytes: 64 << 10, Logger: log, Chaos: chaos}),
		local: NewHandler(e, Options{Token: testToken, MaxBodyBytes: 64 << 10, Logger: log, Chaos: chaos}),
	}
	f.Cleanup(rig.ids.Close)
	f.Cleanup(rig.local.Close)

	ctx := context.Background()
	res, err := e.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: "agent.builder", Payload: json.RawMessage(`{"x":"` + failPermanently + `"}`)})
	if err != nil {
		f.Fatal(err)
	}
	rig.failed = res.Intent.ID
	// Another actor's intent, which an agent must never be shown.
	other, err := e.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "alice", Context: map[string]any{"owner": "alice"}})
	if err != nil {
		f.Fatal(err)
	}
	rig.other = other.Intent.ID
	for deadline := time.Now().Add(waitTime); ; time.Sleep(5 * time.Millisecond) {
		in, err := st.Get(ctx, rig.failed)
		if err == nil && in.State == intent.StateFailed {
			break
		}
		if time.Now().After(deadline) {
			f.Fatalf("%s never failed: %+v %v", rig.failed, in.State, err)
		}
	}
	rig.refresh(f)
	return rig
}

// refresh puts the rig back as the fuzz targets expect it, whatever the
// last input did: an intent pending approval, the scheduler and every
// type and actor running, few silences active.
func (rig *fuzzRig) refresh(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	if in, err := rig.st.Get(ctx, rig.pending); rig.pending == "" || err != nil || in.State != intent.StatePendingApproval {
		res, err := rig.e.Submit(ctx, intent.Submission{Type: "change_charter", Actor: "agent.builder"})
		if err != nil {
			t.Fatal(err)
		}
		rig.pending = res.Intent.ID
	}
	snap := rig.e.Snapshot()
	if snap.Layer2.Paused {
		_ = rig.e.ResumeScheduler(ctx, "fuzz", "fuzz reset")
	}
	for _, p := range snap.Layer2.PausedTypes {
		_ = rig.e.ResumeType(ctx, "fuzz", p.Type, "fuzz reset")
	}
	for _, p := range snap.Layer2.PausedActors {
		_ = rig.e.ResumeActor(ctx, "fuzz", p.Actor, "fuzz reset")
	}
	active, err := rig.e.Silences(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range active {
		switch {
		case s.ID == rig.silence:
			found = true
		case len(active) > 20:
			_, _ = rig.e.EndSilence(ctx, s.ID, "fuzz", "fuzz reset")
		}
	}
	if !found {
		sil, err := rig.e.SilenceAlerts(ctx, engine.SilenceRequest{Match: "scheduler/*", For: 24 * time.Hour, Reason: "fuzz seed", Operator: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		rig.silence = sil.ID
	}
}

// state is what a refused request must leave as it was: how many
// intents there are, the rig's intents as stored, the silences (who ended
// which: expiry may change their state meanwhile) and the pauses.
func (rig *fuzzRig) state(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	counts, err := rig.st.CountByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	var b strings.Builder
	fmt.Fprintf(&b, "intents %d\n", n)
	for _, id := range []string{rig.pending, rig.failed, rig.other} {
		in, err := rig.st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s by %q %q reviewed %v\n", in.ID, in.State, in.DecidedBy, in.DecisionReason, in.Reviewed)
	}
	sils, err := rig.e.Silences(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sils {
		fmt.Fprintf(&b, "silence %s %q ended by %q\n", s.ID, s.Match, s.EndedBy)
	}
	l2 := rig.e.Snapshot().Layer2
	fmt.Fprintf(&b, "paused %v\n", l2.Paused)
	for _, p := range l2.PausedTypes {
		fmt.Fprintf(&b, "type %s paused by %s\n", p.Type, p.By)
	}
	for _, p := range l2.PausedActors {
		fmt.Fprintf(&b, "actor %s paused by %s\n", p.Actor, p.By)
	}
	return b.String()
}

// fuzzRequest is one request a fuzz input makes.
type fuzzRequest struct {
	caller byte   // an index into fuzzCallers (mod its length)
	method string // GET, POST, …
	target string // the request target as sent: path and query, escaped
	body   []byte
	header http.Header // extra headers, as the client sent them
}

// answer is what the handler answered r, and whether r could reach it
// at all: a target or header net/http's server refuses itself (400
// before any handler runs) is not the API's to answer.
func (rig *fuzzRig) serve(t testing.TB, r fuzzRequest) (answer, bool) {
	t.Helper()
	u, err := url.ParseRequestURI(r.target)
	if err != nil || strings.ContainsAny(r.target, " \t\r\n\x00") {
		return answer{}, false
	}
	req := &http.Request{
		Method: r.method, URL: u, RequestURI: r.target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "grace.test", RemoteAddr: "192.0.2.1:1234",
		Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: int64(len(r.body)),
	}
	caller := fuzzCallers[int(r.caller)%len(fuzzCallers)]
	if caller.token != "" {
		req.Header.Set("Authorization", "Bearer "+caller.token)
	}
	for k, vs := range r.header {
		if !validHeaderName(k) {
			return answer{}, false
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return answer{}, false
			}
			// The server reads a header value without its surrounding blanks.
			req.Header.Add(k, strings.Trim(v, " \t"))
		}
	}
	h := rig.ids
	if caller.name == "local" {
		h = rig.local
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	w := &streamEnder{ResponseRecorder: rec, end: cancel}
	h.ServeHTTP(w, req.WithContext(ctx))
	return answer{status: rec.Code, header: rec.Result().Header, body: rec.Body.Bytes()}, true
}

// streamEnder ends the request at its first flush: an event stream has
// then answered, and would otherwise run until the client goes.
type streamEnder struct {
	*httptest.ResponseRecorder
	end func()
}

func (s *streamEnder) Flush() {
	s.ResponseRecorder.Flush()
	s.end()
}

// validHeaderName and validHeaderValue are what net/http's server takes
// in a request's header (RFC 7230 token; no control bytes but tab).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// knownCodes are the error codes of the stable error shape.
var knownCodes = strings.Fields(`actor_mismatch already_approved already_paused bad_body bad_path bad_query
batch_refused body_too_large chaos_busy chaos_unavailable conflicting_fields duplicate_field forbidden
idempotency_conflict internal invalid_chaos_request invalid_field invalid_intent malformed_json
method_not_allowed no_words not_cancellable not_found not_implemented not_paused not_pending not_retryable
not_reviewable not_stored operator_required queue_full rate_limited reason_required self_approval self_review
silence_ended streams_full request_timeout token_expired too_many_silences too_many_streams type_required
unauthorized unavailable unknown_field unknown_type unsupported_encoding wrong_type`)

// fieldCodes are the codes whose error always names its field.
var fieldCodes = strings.Fields(`unknown_field duplicate_field invalid_field reason_required type_required
unknown_type conflicting_fields actor_mismatch operator_required no_words batch_refused`)

// check fails t when a fuzz input's answer is one a user would notice as
// wrong: a 5xx (a panic is one), a 4xx not in the stable JSON error shape
// or that changed something, a 2xx JSON answer that is not JSON.
func (rig *fuzzRig) check(t *testing.T, r fuzzRequest, before string, a answer) {
	t.Helper()
	what := fmt.Sprintf("%s %q as %s", r.method, r.target, fuzzCallers[int(r.caller)%len(fuzzCallers)].name)
	if log := rig.newLogs(); log != "" {
		t.Errorf("%s: the server logged an error:\n%s", what, log)
	}
	ct := a.header.Get("Content-Type")
	switch {
	case a.status >= 500:
		t.Fatalf("%s: %d for a client's input: %s", what, a.status, a.body)
	case a.status >= 400:
		if ct != "application/json" {
			t.Fatalf("%s: %d answered as %q: %s", what, a.status, ct, a.body)
		}
		var er struct {
			Error    map[string]json.RawMessage `json:"error"`
			Problems []engine.Problem           `json:"problems"`
			Results  []BatchResult              `json:"results"`
		}
		dec := json.NewDecoder(bytes.NewReader(a.body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&er); err != nil || er.Error == nil {
			t.Fatalf("%s: %d not in the error shape (%v): %s", what, a.status, err, a.body)
		}
		var code, msg, field string
		if json.Unmarshal(er.Error["code"], &code) != nil || !slices.Contains(knownCodes, code) ||
			json.Unmarshal(er.Error["message"], &msg) != nil || strings.TrimSpace(msg) == "" {
			t.Fatalf("%s: %d error without a known code and a message: %s", what, a.status, a.body)
		}
		if raw, ok := er.Error["field"]; ok && json.Unmarshal(raw, &field) != nil {
			t.Fatalf("%s: %d error's field is not a string: %s", what, a.status, a.body)
		}
		if field == "" && slices.Contains(fieldCodes, code) && !strings.Contains(msg, `""`) { // the empty name: {"":1}
			t.Fatalf("%s: %d %s without the field it is about: %s", what, a.status, code, a.body)
		}
		if after := rig.state(t); after != before {
			t.Fatalf("%s: refused %d %s, yet it changed the engine:\nbefore\n%s\nafter\n%s", what, a.status, a.body, before, after)
		}
	case ct == "application/json" && !json.Valid(a.body):
		t.Fatalf("%s: %d answer is not JSON: %s", what, a.status, a.body)
	case readOnly(r):
		if after := rig.state(t); after != before {
			t.Fatalf("%s: a read answered %d %s, yet it changed the engine:\nbefore\n%s\nafter\n%s", what, a.status, a.body, before, after)
		}
	}
}

// readOnly reports whether r only reads, whatever its answer: a GET or
// HEAD, or a routing question (POST /v1/intents/route).
func readOnly(r fuzzRequest) bool {
	path, _, _ := strings.Cut(r.target, "?")
	return r.method == "GET" || r.method == "HEAD" || path == "/v1/intents/route"
}

// run serves r and checks the answer, with the rig made ready first.
func (rig *fuzzRig) run(t *testing.T, r fuzzRequest) answer {
	t.Helper()
	rig.refresh(t)
	before := rig.state(t)
	a, ok := rig.serve(t, r)
	if !ok {
		return a
	}
	rig.check(t, r, before, a)
	return a
}

// newLogs returns what the handlers logged at error level since the
// last call.
func (rig *fuzzRig) newLogs() string {
	all := rig.logs.String()
	fresh := all[rig.logsRead:]
	rig.logsRead = len(all)
	return fresh
}

// fuzzID is an intent ID a fuzz input names by a selector: the rig's
// pending, failed or other intent, the pending one in lower case with the
// input's bytes after it, or the input's own bytes.
func (rig *fuzzRig) fuzzID(sel byte, raw string) string {
	var id string
	switch sel % 5 {
	case 0:
		id = rig.pending
	case 1:
		id = rig.failed
	case 2:
		id = strings.ToLower(rig.pending) + raw
	case 3:
		id = rig.other
	default:
		return raw
	}
	return id
}

// checkStored fails t when the intent stored as id is not the submission
// body asked for: its type, priority and payload (numbers to the digit).
func (rig *fuzzRig) checkStored(t *testing.T, id string, body []byte) {
	t.Helper()
	var req SubmitRequest
	if err := json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &req); err != nil {
		t.Fatalf("%s was stored from a body that does not decode (%v): %q", id, err, body)
	}
	in, err := rig.st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	prio := DefaultPriority
	if req.Priority != nil {
		prio = *req.Priority
	}
	if in.Type != req.Type || in.Priority != prio {
		t.Fatalf("%s stored as type %q priority %d; the body said %q %d", id, in.Type, in.Priority, req.Type, prio)
	}
	if p := bytes.TrimSpace(req.Payload); len(p) > 0 && string(p) != "null" && !sameJSON(p, in.Payload) {
		t.Fatalf("%s stored its payload as %s; the body said %s", id, in.Payload, p)
	}
	var sent struct {
		Context json.RawMessage `json:"context"`
	}
	_ = json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &sent)
	if c := bytes.TrimSpace(sent.Context); len(c) > 0 && string(c) != "null" {
		stored, _ := json.Marshal(in.Context)
		if !sameJSON(c, stored) {
			t.Fatalf("%s stored its context as %s; the body said %s", id, stored, c)
		}
	}
}

// sameJSON reports whether a and b are the same JSON value, numbers
// compared by the values their digits write (1.50 is 1.5, and
// 12345678901234567891 is not 12345678901234567000).
func sameJSON(a, b []byte) bool {
	read := func(data []byte) (any, bool) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		return v, dec.Decode(&v) == nil
	}
	va, oka := read(a)
	vb, okb := read(b)
	return oka && okb && sameValue(va, vb)
}

func sameValue(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, _, errx := big.ParseFloat(string(a), 10, 4096, big.ToNearestEven)
		y, _, erry := big.ParseFloat(string(b), 10, 4096, big.ToNearestEven)
		return errx == nil && erry == nil && x.Cmp(y) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
