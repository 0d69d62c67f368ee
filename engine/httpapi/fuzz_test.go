package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The fuzz targets of the HTTP API's untrusted input: bodies, query
// strings, headers and path parameters, each driven through the real
// handler over the real engine on a SQLite store on disk (fuzzRig). Every
// answer is checked as a user would see it (fuzzRig.check): no 5xx for
// any input, every 4xx in the stable JSON error shape with a known code
// and changing nothing, every 2xx JSON answer JSON. Plain "go test" runs
// the seeds below and those in testdata/fuzz; "go test -fuzz" explores.

// nastyJSON are bodies that have broken JSON readers: each target seeds
// with them besides its own valid bodies.
func nastyJSON() []string {
	return []string{
		"", " ", "null", "[]", `""`, "0", "{}", "{", "}", `{"a":}`, "\xef\xbb\xbf{}",
		`{"type":"query_knowledge"}{"type":"query_knowledge"}`, `{"type":"query_knowledge"} x`,
		`{"type":"query_knowledge","type":"change_charter"}`, `{"reason":"a","reason":"b"}`,
		`{"priority":"5","type":"query_knowledge"}`, `{"priority":1e400,"type":"query_knowledge"}`,
		`{"priority":-9223372036854775809,"type":"query_knowledge"}`, `{"priority":99999999999999999999}`,
		`{"limit":-1}`, `{"type":"query_knowledge","payload":{"a":1e999}}`,
		`{"type":"query_knowledge","context":{"n":1e309}}`, `{"type":"query_knowledge","context":{"n":-1e309}}`,
		"{\"type\":\"query\x00knowledge\"}", `{"type":"query\u0000knowledge"}`, "{\"type\":\"\xff\xfe\"}",
		`{"type":"\ud800"}`, `{"type":"ѕchedule_task"}`, `{"type":"schedule_task\u200b"}`, `{"type":"SCHEDULE_TASK"}`,
		`{"reason":"` + strings.Repeat("x", 70000) + `"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		`{"type":"query_knowledge","payload":` + strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000) + `}`,
		`{"type":"query_knowledge","context":` + strings.Repeat(`[`, 5000) + strings.Repeat(`]`, 5000) + `}`,
		`{"TYPE":"query_knowledge"}`, `{"Reason":"x"}`, `{"reason":null}`, `{"reason":["x"]}`, `{"reason":{"x":1}}`,
		`{"operator":"\u202eecila","reason":"x"}`, "{\"reason\":\"line\\r\\nInjected: 1\"}",
	}
}

// FuzzSubmitBody fuzzes POST /v1/intents and /v1/intents/route: the body,
// its Content-Type and Content-Encoding, and the X-Grace-Operator header
// (read with the local token).
func FuzzSubmitBody(f *testing.F) {
	rig := newFuzzRig(f)
	valid := []string{
		`{"type":"query_knowledge"}`,
		`{"type":"query_knowledge","payload":{"q":"status"},"priority":3,"idempotency_key":"k1"}`,
		`{"type":"change_charter","actor":"agent.builder","context":{"why":"seed"}}`,
		`{"type":"schedule_task","payload":{"at":"2026-01-02T15:04:05Z"},"not_before":"2030-01-01T00:00:00Z"}`,
		`{"type":"query_knowledge","actor":"alice"}`, `{"type":"query_knowledge","actor":"AGENT.BUILDER"}`,
		`{"type":"query_knowledge","deadline":"1h"}`,
		`{"type":"query_knowledge","context":{"build":12345678901234567891}}`,
		`{"type":"query_knowledge","context":{"ratio":0.1,"n":[1.50,-0,1e300,2e-308]}}`,
	}
	for i, b := range append(valid, nastyJSON()...) {
		f.Add(byte(i), byte(i), []byte(b), "application/json", "", "")
	}
	for _, b := range valid {
		f.Add(byte(0), byte(0), []byte(b), "", "", "") // stored, as alice
	}
	f.Add(byte(4), byte(0), []byte(`{"type":"query_knowledge"}`), "text/plain", "gzip", "op\u00e9rator")
	f.Add(byte(4), byte(0), []byte(`{"type":"query_knowledge"}`), "", "identity, br", "")
	f.Fuzz(func(t *testing.T, caller, route byte, body []byte, contentType, encoding, operator string) {
		path := []string{"/v1/intents", "/v1/intents/route"}[route%2]
		h := http.Header{}
		for k, v := range map[string]string{"Content-Type": contentType, "Content-Encoding": encoding, OperatorHeader: operator} {
			if v != "" {
				h.Set(k, v)
			}
		}
		a := rig.run(t, fuzzRequest{caller: caller, method: "POST", target: path, body: body, header: h})
		if path == "/v1/intents" && (a.status == http.StatusAccepted || a.status == http.StatusOK) {
			var sr SubmitResponse
			if err := json.Unmarshal(a.body, &sr); err != nil || sr.ID == "" || sr.State == "" {
				t.Fatalf("submission answered %d without an intent: %s", a.status, a.body)
			}
			if a.status == http.StatusAccepted {
				rig.checkStored(t, sr.ID, body)
			}
		}
	})
}

// FuzzBatchBody fuzzes POST /v1/intents/batch, atomic or not.
func FuzzBatchBody(f *testing.F) {
	rig := newFuzzRig(f)
	seeds := []string{
		`{"intents":[{"type":"query_knowledge"}]}`,
		`{"atomic":true,"intents":[{"type":"query_knowledge"},{"type":"change_charter"}]}`,
		`{"atomic":true,"intents":[{"type":"query_knowledge","idempotency_key":"k"},{"type":"query_knowledge","idempotency_key":"k","priority":7}]}`,
		`{"intents":[{"type":"query_knowledge","idempotency_key":"b"},{"type":"query_knowledge","idempotency_key":"b"}]}`,
		`{"atomic":true,"intents":[{"type":"no_such_type"},{"type":"query_knowledge"}]}`,
		`{"intents":[]}`, `{"intents":null}`, `{"intents":[null]}`, `{"intents":[1,"x",[]]}`, `{"intents":{}}`,
		`{"atomic":"true","intents":[{"type":"query_knowledge"}]}`, `{"atomic":1,"intents":[{"type":"query_knowledge"}]}`,
		`{"intents":[{"type":"query_knowledge"}],"intents":[{"type":"query_knowledge"}]}`,
		`{"intents":[{"type":"query_knowledge","type":"x"}]}`, `{"intents":[{"type":"query_knowledge"} ]}`,
		`{"intents":[{"type":"query_knowledge","actor":"alice"}]}`, `{"atomic":true,"intents":[{"priority":1e400}]}`,
		`{"intents":[{"type":"query_knowledge","context":{"n":12345678901234567891}}]}`,
		`{"atomic":true,"intents":[{"type":"query_knowledge","payload":{"n":1.50},"context":{"r":0.1}}]}`,
		`{"intents":[` + strings.TrimSuffix(strings.Repeat(`{"type":"query_knowledge"},`, 1001), ",") + `]}`,
	}
	for i, b := range append(seeds, nastyJSON()...) {
		f.Add(byte(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, caller byte, body []byte) {
		a := rig.run(t, fuzzRequest{caller: caller, method: "POST", target: "/v1/intents/batch", body: body})
		if a.status == http.StatusOK {
			var br BatchResponse
			if err := json.Unmarshal(a.body, &br); err != nil || len(br.Results) == 0 || br.Accepted+br.Refused != len(br.Results) {
				t.Fatalf("batch answered 200 with results that do not add up: %s", a.body)
			}
			var req BatchRequest
			if err := json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &req); err != nil || len(req.Intents) != len(br.Results) {
				t.Fatalf("batch answered 200 with %d results to a body of %d submissions (%v)", len(br.Results), len(req.Intents), err)
			}
			for i, res := range br.Results {
				if res.Status == http.StatusAccepted {
					rig.checkStored(t, res.ID, req.Intents[i])
				}
			}
		}
	})
}

// FuzzIntentAction fuzzes approve, deny, review, cancel and retry: the
// intent's ID (the rig's pending or failed intent, or any bytes), the
// body and the X-Grace-Operator header.
func FuzzIntentAction(f *testing.F) {
	rig := newFuzzRig(f)
	valid := []string{`{}`, `{"reason":"looks right"}`, `{"reason":"no","operator":"carol"}`, `{"note":"ok","flag":true}`,
		`{"note":"","flag":true}`, `{"flag":"yes"}`, `{"reason":"  "}`, "{\"reason\":\"a\\u0000b\"}"}
	ids := []string{"", "int_01NOSUCHINTENT0000000000", "..", "%2e%2e", "a/b", "int_\x00", "\xff", "ÍNT_01", strings.Repeat("9", 5000)}
	for i, b := range append(valid, nastyJSON()...) {
		f.Add(byte(i), byte(i), byte(i), ids[i%len(ids)], []byte(b), "")
	}
	f.Add(byte(4), byte(0), byte(0), "", []byte(`{"reason":"x"}`), "bob\u0085")
	f.Add(byte(4), byte(1), byte(3), "", []byte(`{"reason":"x"}`), strings.Repeat("o", 300))
	f.Fuzz(func(t *testing.T, caller, action, idSel byte, rawID string, body []byte, operator string) {
		verb := []string{"approve", "deny", "review", "cancel", "retry"}[action%5]
		h := http.Header{}
		if operator != "" {
			h.Set(OperatorHeader, operator)
		}
		target := "/v1/intents/" + url.PathEscape(rig.fuzzID(idSel, rawID)) + "/" + verb
		rig.run(t, fuzzRequest{caller: caller, method: "POST", target: target, body: body, header: h})
	})
}

// FuzzSilenceBody fuzzes POST /v1/alerts/silences and
// /v1/alerts/silences/{id}/end: body and silence ID.
func FuzzSilenceBody(f *testing.F) {
	rig := newFuzzRig(f)
	valid := []string{
		`{"match":"scheduler/paused","for":"2h","reason":"maintenance"}`,
		`{"match":"*","until":"2030-01-02T15:04:05Z","reason":"window"}`,
		`{"match":"*/down","for":"1d12h","reason":"x"}`, `{"match":"a/b","for":"7d","reason":"x","operator":"carol"}`,
		`{"match":"a/b","for":"30s","reason":"x"}`, `{"match":"a/b","for":"31d","reason":"x"}`,
		`{"match":"a/b","for":"99999999999999999999d","reason":"x"}`, `{"match":"a/b","for":"2562048h","reason":"x"}`,
		`{"match":"a/b","for":"1d9223372036854775807ns","reason":"x"}`, `{"match":"a/b","for":"-1h","reason":"x"}`,
		`{"match":"a/b","until":"1999-01-01T00:00:00Z","reason":"x"}`, `{"match":"a/b","until":"9999-12-31T23:59:59+23:59","reason":"x"}`,
		`{"match":"a/b","for":"1h","until":"2030-01-01T00:00:00Z","reason":"x"}`, `{"match":"","for":"1h","reason":"x"}`,
		`{"match":"a/b/c","for":"1h","reason":"x"}`, `{"match":"**","for":"1h","reason":"x"}`, `{"match":"a/b","for":"1h"}`,
		`{"reason":"done"}`, `{"reason":""}`, `{"match":"a/b","for":"1h","reason":"x","until":""}`,
	}
	for i, b := range append(valid, nastyJSON()...) {
		f.Add(byte(i), byte(i), byte(i), "sil_nosuch", []byte(b))
	}
	f.Fuzz(func(t *testing.T, caller, action, idSel byte, rawID string, body []byte) {
		target := "/v1/alerts/silences"
		if action%2 == 1 {
			id := rawID
			if idSel%2 == 0 {
				id = rig.silence + rawID
			}
			target += "/" + url.PathEscape(id) + "/end"
		}
		rig.run(t, fuzzRequest{caller: caller, method: "POST", target: target, body: body})
	})
}

// FuzzControlBody fuzzes the bodies of the scheduler's pause and resume
// (of the scheduler, a type or an actor) and of a chaos run and halt (on
// a fake chaos service: the real one runs its scenarios).
func FuzzControlBody(f *testing.F) {
	rig := newFuzzRig(f)
	valid := []string{
		`{"reason":"deploy"}`, `{"reason":"deploy","type":"schedule_task"}`, `{"reason":"x","actor":"agent.builder"}`,
		`{"reason":"x","actor":"AGENT.BUILDER"}`, `{"reason":"x","type":"no_such"}`, `{"reason":"x","type":"Schedule_Task"}`,
		`{"reason":"x","type":"schedule_task","actor":"a"}`, `{"reason":"x","type":" "}`, `{"reason":"x","operator":"carol"}`,
		`{"scenarios":["L2_HTM_queue_flood_stress"]}`, `{"all":true}`, `{"category":"jepsen","difficulty":2}`,
		`{"difficulty":-1}`, `{"difficulty":1e10}`, `{"scenarios":[""]}`, `{"scenarios":null,"live":true}`,
	}
	for i, b := range append(valid, nastyJSON()...) {
		f.Add(byte(i), byte(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, caller, action byte, body []byte) {
		target := []string{"/v1/scheduler/pause", "/v1/scheduler/resume", "/v1/chaos/runs", "/v1/chaos/halt"}[action%4]
		rig.run(t, fuzzRequest{caller: caller, method: "POST", target: target, body: body})
	})
}

// FuzzQuery fuzzes the query strings of the read routes.
func FuzzQuery(f *testing.F) {
	rig := newFuzzRig(f)
	seeds := []string{
		"", "state=queued", "state=pending_approval&limit=5", "limit=0", "limit=-1", "limit=99999999999999999999",
		"limit=1e3", "limit= 5", "tier=0&unreviewed=true", "tier=-1", "tier=9999999999999999999", "unreviewed=maybe",
		"actor=alice", "actor=AGENT.BUILDER", "type=ѕchedule_task", "since=1h", "since=7d", "since=0d", "since=-1h",
		"since=999999999999d", "since=2562048h", "since=2026-01-02T15:04:05Z", "since=9999-12-31T23:59:59Z",
		"since=0000-01-01T00:00:00Z", "before=int_01NOSUCH", "before=%00", "state=queued&state=failed", "x=1",
		"q=hello+world", "q=%22phrase", "q=***", "q=%FF%FE", "q=a%00b", "q=" + strings.Repeat("w+", 500),
		"until=1h&since=2h", "after=5", "intent=int_x", "kinds=intent,alert", "kinds=nope", "kinds=,,,",
		"firing=true", "firing=2", "all=yes", "all=1", "wait=1ms", "wait=61s", "wait=-1s", "%zz", "a=%", ";", "&&=&",
	}
	for i, q := range seeds {
		f.Add(byte(i), byte(i), q)
	}
	for _, q := range []string{"", "actor=agent.builder", "actor=AGENT.BUILDER", "actor=alice", "actor=agent.builder%00", "state=pending_approval"} {
		f.Add(byte(2), byte(0), q) // the agent lists: its own intents only
	}
	f.Fuzz(func(t *testing.T, caller, route byte, query string) {
		paths := []string{"/v1/intents", "/v1/intents/" + rig.failed, "/v1/narratives", "/v1/events", "/v1/chaos/runs",
			"/v1/alerts", "/v1/alerts/silences", "/v1/telemetry", "/v1/scheduler", "/v1/chaos/runs/chaos-1", "/v1/whoami"}
		target := paths[int(route)%len(paths)]
		if query != "" {
			target += "?" + query
		}
		a := rig.run(t, fuzzRequest{caller: caller, method: "GET", target: target})
		if fuzzCallers[int(caller)%len(fuzzCallers)].name == "agent.builder" && a.status == http.StatusOK && strings.Contains(string(a.body), `"alice"`) {
			t.Fatalf("an agent was shown another actor's intent: GET %s answered %s", target, a.body)
		}
	})
}

// FuzzHeaders fuzzes the headers every route reads: Authorization (a
// bearer token of any bytes), X-Request-Id, Last-Event-ID (on the event
// stream), Content-Type and Content-Encoding, X-Grace-Operator.
func FuzzHeaders(f *testing.F) {
	rig := newFuzzRig(f)
	for i, s := range []struct{ auth, reqID, lastID, ctype, op string }{
		{"", "", "", "", ""}, {"Bearer " + opAlice, "req-1", "", "application/json", ""},
		{"bearer  " + opAlice + " ", "a:b.c_d-e", "", "", ""}, {"Bearer", "", "", "", ""}, {"Bearer ", "", "", "", ""},
		{"Basic YTpi", "", "", "", ""}, {"Bearer \xff\xfe", strings.Repeat("x", 129), "", "", ""},
		{"Bearer " + strings.Repeat("t", 10000), "", "", "", ""}, {"", "", "x-1", "", ""}, {"", "", "-1", "", ""},
		{"", "", "epoch-18446744073709551616", "", ""}, {"", "", "epoch-0", "", ""}, {"", "", "--", "", ""},
		{"", "", "\xff-1", "", ""}, {"", "id\x7f", "", "text/plain; charset=latin1", "op"}, {"", "", "", "", "\t"},
		{"", "", "@-0", "", ""}, {"", "", "@-1", "", ""}, {"", "", "@-18446744073709551615", "", ""}, {"", "", "@-@-3", "", ""},
	} {
		f.Add(byte(i), byte(i), s.auth, s.reqID, s.lastID, s.ctype, s.op)
		if s.lastID != "" {
			f.Add(byte(i%3), byte(1), "", "", s.lastID, "", "") // on the event stream
		}
	}
	f.Fuzz(func(t *testing.T, caller, route byte, auth, reqID, lastID, ctype, operator string) {
		routes := []struct{ method, target, body string }{
			{"GET", "/v1/whoami", ""}, {"GET", "/v1/events", ""}, {"POST", "/v1/intents", `{"type":"query_knowledge"}`},
			{"POST", "/v1/intents/" + rig.pending + "/approve", `{"reason":"ok"}`}, {"GET", "/v1/intents/" + rig.failed, ""},
			{"GET", "/healthz", ""}, {"GET", "/v1/nowhere", ""}, {"DELETE", "/v1/intents", ""},
		}
		rt := routes[int(route)%len(routes)]
		// "@" in Last-Event-ID stands for the engine's epoch: an ID of
		// this run, which a fuzzer could not guess.
		lastID = strings.ReplaceAll(lastID, "@", rig.e.EventEpoch())
		h := http.Header{}
		for k, v := range map[string]string{"Authorization": auth, requestIDHeader: reqID, "Last-Event-ID": lastID,
			"Content-Type": ctype, OperatorHeader: operator} {
			if v != "" {
				h.Set(k, v)
			}
		}
		r := fuzzRequest{caller: caller, method: rt.method, target: rt.target, body: []byte(rt.body), header: h}
		if auth != "" {
			r.caller = byte(len(fuzzCallers) - 2) // no token of its own: the header's
		}
		a := rig.run(t, r)
		if a.status == 0 {
			return
		}
		got := a.header.Get(requestIDHeader)
		sent := strings.Trim(reqID, " \t")
		if !usableRequestID(got) || (usableRequestID(sent) && got != sent) {
			t.Fatalf("request ID %q answered as %q", sent, got)
		}
	})
}

// FuzzTarget fuzzes the request target itself: any method and path, for
// the routes' matching, canonical paths and percent-encoding.
func FuzzTarget(f *testing.F) {
	rig := newFuzzRig(f)
	for i, s := range []string{"/v1/intents", "/v1/intents/", "//v1/intents", "/v1/./intents", "/v1/intents/../whoami",
		"/v1/intents/%2e%2e/approve", "/v1/intents/a%2Fb/approve", "/v1/intents/%00", "/v1/intents/%FF/cancel",
		"/v1/chaos/runs/%20", "/v1/alerts/silences//end", "/healthz/", "/metrics?x=1", "/v1/INTENTS", "/v1/intents?",
		"/v1/intents#frag", "*", "/v1/intents/" + strings.Repeat("a", 3000)} {
		f.Add(byte(i), byte(i), s, []byte(`{"reason":"x"}`))
	}
	f.Fuzz(func(t *testing.T, caller, method byte, target string, body []byte) {
		m := []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "post"}[method%8]
		if strings.Contains(target, "wait=") {
			return // a wait holds the request up to a minute: FuzzQuery reads it on a finished intent
		}
		rig.run(t, fuzzRequest{caller: caller, method: m, target: target, body: body})
	})
}
