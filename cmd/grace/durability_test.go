package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"grace/engine"
	"grace/engine/clarity"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// loadClient submits intents over HTTP as one agent, each under its own
// idempotency key, and keeps what the server answered: the keys
// acknowledged (202 with an ID) and the keys whose request got no answer
// (in doubt: the server died with it in flight).
type loadClient struct {
	url, token string
	http       *http.Client

	mu      sync.Mutex
	acked   map[string]string // idempotency key → the ID its 202 gave
	inDoubt []string
}

// run submits until a request gets no answer or stop is closed.
func (l *loadClient) run(t *testing.T, worker int, stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		key := fmt.Sprintf("load-%d-%d", worker, i)
		body := fmt.Sprintf(`{"type":"query_knowledge","actor":"agent.load","priority":5,"payload":{"n":%d},"idempotency_key":%q}`, i, key)
		req, err := http.NewRequest(http.MethodPost, l.url+"/v1/intents", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		req.Header.Set("Authorization", "Bearer "+l.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := l.http.Do(req)
		if err != nil {
			l.mu.Lock()
			l.inDoubt = append(l.inDoubt, key)
			l.mu.Unlock()
			return
		}
		var out httpapi.SubmitResponse
		derr := json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || derr != nil || out.ID == "" {
			// A 5xx as the process dies would be in doubt too, but the
			// server must not answer an accepted submission otherwise.
			t.Errorf("submit %s: %d %+v %v", key, resp.StatusCode, out, derr)
			return
		}
		l.mu.Lock()
		l.acked[key] = out.ID
		l.mu.Unlock()
	}
}

func (l *loadClient) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// TestSIGKILLUnderLoadKeepsEveryAcknowledgedSubmission kills a serving
// engine with SIGKILL while eight agents' connections submit over HTTP
// as fast as it answers, then starts it again: every submission
// acknowledged with a 202 is there and runs to completion exactly once
// on the record; a submission whose answer the crash cut off, sent again
// under its idempotency key, becomes one intent, never two; and the audit
// chain holds. This is the 202's promise: durable before it is sent.
func TestSIGKILLUnderLoadKeepsEveryAcknowledgedSubmission(t *testing.T) {
	t.Parallel()
	c, url := newServerCLI(t)
	agent := testIdentity{"agent.load", "agent", "agent-load-token-0123456789abcdef"}
	op := testIdentity{"opal", "operator", "opal-token-0123456789abcdef012345"}
	// Work in every state at the kill: queued, dispatched, running.
	config := filepath.Join(c.dir, "load.yaml")
	body := "api:\n  listen: " + strings.TrimPrefix(url, "http://") + "\n  server: " + url +
		"\ncortex:\n  enabled: false\nhtm:\n  rate_limit: {global_rate: 100000, global_burst: 100000, actor_rate: 100000, actor_burst: 100000}\nworkers:\n  count: 2\nhandlers:\n  default: {kind: sim, latency: 20ms, failure_rate: 0}\n" +
		identitiesYAML(agent, op)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startServe(t, c, config, url)

	load := &loadClient{url: url, token: agent.token, http: &http.Client{Timeout: 30 * time.Second}, acked: map[string]string{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() { load.run(t, w, stop) })
	}
	const before = 250
	waitFor(t, 60*time.Second, fmt.Sprintf("%d acknowledged submissions", before), func() bool { return load.ackedCount() >= before })
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	srv.done <- nil
	close(stop)
	wg.Wait()
	t.Logf("SIGKILL after %d acknowledged submissions, %d in flight", len(load.acked), len(load.inDoubt))

	startServe(t, c, config, url)
	ctx := context.Background()
	api := httpapi.NewClient(url, op.token, &http.Client{Timeout: 30 * time.Second})
	agentAPI := httpapi.NewClient(url, agent.token, &http.Client{Timeout: 30 * time.Second})

	// Every acknowledged submission is there; sent again, it is the same
	// intent. Every one in doubt, sent again, is one intent.
	ids := map[string]string{} // ID → key
	for key, id := range load.acked {
		if _, err := api.Get(ctx, id); err != nil {
			t.Fatalf("acknowledged intent %s (key %s) after the SIGKILL: %v", id, key, err)
		}
		res, err := agentAPI.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: agent.name, Priority: 5,
			Payload: json.RawMessage(fmt.Sprintf(`{"n":%s}`, key[strings.LastIndex(key, "-")+1:])), IdempotencyKey: key})
		if err != nil || !res.Existing || res.Intent.ID != id {
			t.Fatalf("key %s sent again: %+v %v; want intent %s back", key, res, err, id)
		}
		ids[id] = key
	}
	for _, key := range load.inDoubt {
		res, err := agentAPI.Submit(ctx, intent.Submission{Type: "query_knowledge", Actor: agent.name, Priority: 5,
			Payload: json.RawMessage(fmt.Sprintf(`{"n":%s}`, key[strings.LastIndex(key, "-")+1:])), IdempotencyKey: key})
		if err != nil {
			t.Fatalf("in-doubt key %s sent again: %v", key, err)
		}
		if other, dup := ids[res.Intent.ID]; dup {
			t.Fatalf("in-doubt key %s answered with %s, which is %s's", key, res.Intent.ID, other)
		}
		ids[res.Intent.ID] = key
	}

	// One intent per key, no other, and every one completes.
	var list []intent.Intent
	waitFor(t, 60*time.Second, "every intent to complete", func() bool {
		var err error
		list, err = api.List(ctx, intent.Filter{Actor: agent.name, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range list {
			if in.State != intent.StateCompleted {
				return false
			}
		}
		return true
	})
	if len(list) != len(ids) {
		t.Fatalf("%d intents of %s, want %d (one per key: %d acknowledged, %d in doubt)", len(list), agent.name, len(ids), len(load.acked), len(load.inDoubt))
	}
	for _, in := range list {
		if ids[in.ID] != in.IdempotencyKey {
			t.Fatalf("intent %s has key %q, want %q", in.ID, in.IdempotencyKey, ids[in.ID])
		}
	}

	// Each completed once on the record (an attempt the crash cut short
	// runs again, and only the rerun completes).
	done, err := api.Search(ctx, clarity.Query{Action: engine.WhatCompleted, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	completions := map[string]int{}
	for _, e := range done {
		completions[e.IntentID]++
	}
	for id, key := range ids {
		if completions[id] != 1 {
			t.Errorf("intent %s (key %s) completed %d times on the record, want once", id, key, completions[id])
		}
	}

	r := c.run(t, "audit", "verify", "--db", filepath.Join(c.dir, "grace-data", "grace.db"), "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"ok": true`) {
		t.Fatalf("audit verify after the crash: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}
