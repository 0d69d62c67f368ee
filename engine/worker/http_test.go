package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

// webhook is an httptest server on loopback answering with respond, and an
// http handler pointed at it.
type webhook struct {
	srv      *httptest.Server
	h        Handler
	received chan *http.Request
	bodies   chan []byte
}

func setupWebhook(t *testing.T, respond http.HandlerFunc) *webhook {
	t.Helper()
	w := &webhook{received: make(chan *http.Request, 4), bodies: make(chan []byte, 4)}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.received <- r
		w.bodies <- body
		respond(rw, r)
	}))
	t.Cleanup(w.srv.Close)
	reg, err := NewRegistry(map[string]HandlerConfig{"hook": {Kind: KindHTTP, URL: w.srv.URL + "/hooks/grace"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.h, _ = reg.For("hook")
	return w
}

var hookIntent = intent.Intent{ID: "int-7", Type: "deploy_model", Actor: "agent.architect", Payload: []byte(`{"model":"intent-classifier","version":"v2.4.1"}`)}

func TestHTTPSuccessPostsIntentJSON(t *testing.T) {
	t.Parallel()
	w := setupWebhook(t, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusAccepted) })
	if err := w.h.Handle(context.Background(), hookIntent); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	r, body := <-w.received, <-w.bodies
	if r.Method != http.MethodPost || r.URL.Path != "/hooks/grace" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s (%s); want a JSON POST to /hooks/grace", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Idempotency-Key") != "int-7" {
		t.Errorf("Idempotency-Key = %q, want the intent ID", r.Header.Get("Idempotency-Key"))
	}
	var got intent.Intent
	if err := json.Unmarshal(body, &got); err != nil || got.ID != "int-7" || string(got.Payload) != string(hookIntent.Payload) {
		t.Errorf("body = %s (%v); want the intent as JSON", body, err)
	}
}

func TestHTTPStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status        int
		wantErr       bool
		wantPermanent bool
	}{
		{200, false, false},
		{204, false, false},
		{400, true, true},
		{404, true, true},
		{408, true, false},
		{429, true, false},
		{500, true, false},
		{503, true, false},
		{302, true, true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			w := setupWebhook(t, func(rw http.ResponseWriter, _ *http.Request) {
				if tt.status == 302 {
					rw.Header().Set("Location", "/elsewhere")
				}
				rw.WriteHeader(tt.status)
				_, _ = io.WriteString(rw, "model registry says: version v2.4.1 unknown\n")
			})
			err := w.h.Handle(context.Background(), hookIntent)
			if (err != nil) != tt.wantErr || IsPermanent(err) != tt.wantPermanent {
				t.Fatalf("status %d: err = %v (permanent %v); want error %v, permanent %v", tt.status, err, IsPermanent(err), tt.wantErr, tt.wantPermanent)
			}
			if err != nil && (!strings.Contains(err.Error(), http.StatusText(tt.status)) || !strings.Contains(err.Error(), "version v2.4.1 unknown")) {
				t.Errorf("error %q should quote the status and the body", err)
			}
		})
	}
}

func TestHTTPTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	w := setupWebhook(t, func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := w.h.Handle(ctx, hookIntent)
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Errorf("err = %v; want a retryable context.DeadlineExceeded", err)
	}
}

func TestHTTPConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	w := setupWebhook(t, func(http.ResponseWriter, *http.Request) {})
	w.srv.Close()
	err := w.h.Handle(context.Background(), hookIntent)
	if err == nil || IsPermanent(err) {
		t.Errorf("err = %v; want a retryable transport error", err)
	}
}

func TestHTTPReadsBoundedBody(t *testing.T) {
	t.Parallel()
	// An endless answer: Handle must stop reading and return.
	w := setupWebhook(t, func(rw http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("z", 32<<10))
		for r.Context().Err() == nil {
			if _, err := rw.Write(chunk); err != nil {
				return
			}
		}
	})
	if err := w.h.Handle(context.Background(), hookIntent); err != nil {
		t.Errorf("Handle: %v", err)
	}
}
