package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"grace/engine/intent"
)

func TestNewRegistryRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cfgs       map[string]HandlerConfig
		wantKey    string
		wantReason string
	}{
		{"unknown kind", map[string]HandlerConfig{"deploy_model": {Kind: "simulate"}}, "handlers.deploy_model.kind", `unknown kind "simulate"`},
		{"missing kind", map[string]HandlerConfig{"default": {Latency: time.Second}}, "handlers.default.kind", "missing"},
		{"failure rate above 1", map[string]HandlerConfig{"q": {Kind: "sim", FailureRate: 1.5}}, "handlers.q.failure_rate", "outside 0..1"},
		{"negative failure rate", map[string]HandlerConfig{"q": {Kind: "sim", FailureRate: -0.1}}, "handlers.q.failure_rate", "outside 0..1"},
		{"negative latency", map[string]HandlerConfig{"q": {Kind: "sim", Latency: -time.Second}}, "handlers.q.latency", "negative"},
		{"negative timeout", map[string]HandlerConfig{"q": {Kind: "noop", Timeout: -time.Second}}, "handlers.q.timeout", "negative"},
		{"exec without command", map[string]HandlerConfig{"run": {Kind: "exec"}}, "handlers.run.command", "needs a command"},
		{"exec with empty program", map[string]HandlerConfig{"run": {Kind: "exec", Command: []string{""}}}, "handlers.run.command", "needs a command"},
		{"http without url", map[string]HandlerConfig{"hook": {Kind: "http"}}, "handlers.hook.url", "needs a url"},
		{"http with ftp url", map[string]HandlerConfig{"hook": {Kind: "http", URL: "ftp://example.com/x"}}, "handlers.hook.url", "not an http or https URL"},
		{"http with relative url", map[string]HandlerConfig{"hook": {Kind: "http", URL: "/hooks/grace"}}, "handlers.hook.url", "not an http or https URL"},
		{"http without host", map[string]HandlerConfig{"hook": {Kind: "http", URL: "http:///x"}}, "handlers.hook.url", "no host"},
		{"http unparsable", map[string]HandlerConfig{"hook": {Kind: "http", URL: "http://[::1"}}, "handlers.hook.url", "cannot parse"},
		{"first bad entry in key order", map[string]HandlerConfig{
			"b": {Kind: "bogus"}, "a": {Kind: "sim", FailureRate: 2}, "ok": {Kind: "noop"},
		}, "handlers.a.failure_rate", "outside 0..1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewRegistry(tt.cfgs, Options{})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("NewRegistry error = %v, want a *ConfigError", err)
			}
			if ce.Key != tt.wantKey || !strings.Contains(ce.Reason, tt.wantReason) {
				t.Errorf("error = %v; want key %s and a reason containing %q", err, tt.wantKey, tt.wantReason)
			}
			if !strings.Contains(err.Error(), tt.wantKey) {
				t.Errorf("message %q does not name %s", err, tt.wantKey)
			}
		})
	}
}

func TestRegistryFor(t *testing.T) {
	t.Parallel()
	cfgs := map[string]HandlerConfig{
		"default":       {Kind: "sim", FailureRate: 1},
		"query":         {Kind: "noop", Timeout: 3 * time.Second},
		"run_script":    {Kind: "exec", Command: []string{"/bin/true"}},
		"notify_pager":  {Kind: "http", URL: "https://pager.example.com/hook", Timeout: time.Second},
		"plain_default": {Kind: "noop"},
	}
	r, err := NewRegistry(cfgs, Options{Rand: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ         string
		wantKind    string
		wantTimeout time.Duration
	}{
		{"query", "noop", 3 * time.Second},
		{"run_script", "exec", 0},
		{"notify_pager", "http", time.Second},
		{"something_else", "sim", 0},
	}
	for _, tt := range tests {
		h, timeout := r.For(tt.typ)
		if h == nil || timeout != tt.wantTimeout || r.Kind(tt.typ) != tt.wantKind {
			t.Errorf("For(%q) = %T, %v (kind %s); want kind %s, timeout %v", tt.typ, h, timeout, r.Kind(tt.typ), tt.wantKind, tt.wantTimeout)
		}
	}
	// The default entry is a sim handler that always fails: an unlisted
	// type must reach it.
	h, _ := r.For("something_else")
	if err := h.Handle(context.Background(), intent.Intent{ID: "i1", Type: "something_else"}); !errors.Is(err, ErrSimulated) {
		t.Errorf("unlisted type ran %v, want the default sim handler's simulated failure", err)
	}
}

func TestRegistryWithoutDefaultFallsBackToNoop(t *testing.T) {
	t.Parallel()
	r, err := NewRegistry(map[string]HandlerConfig{"query": {Kind: "sim", FailureRate: 1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, timeout := r.For("unlisted")
	if _, ok := h.(Noop); !ok || timeout != 0 || r.Kind("unlisted") != "noop" {
		t.Errorf("For(unlisted) = %T, %v; want the noop handler and no timeout", h, timeout)
	}
	if err := h.Handle(context.Background(), intent.Intent{}); err != nil {
		t.Errorf("noop handler: %v", err)
	}
}

func TestDefaultHandlersAreValid(t *testing.T) {
	t.Parallel()
	if _, err := NewRegistry(DefaultHandlers(), Options{}); err != nil {
		t.Fatalf("the default handlers do not validate: %v", err)
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("404 Not Found")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"marked", Permanent(base), true},
		{"wrapped after marking", fmt.Errorf("dispatch: %w", Permanent(base)), true},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("%s: IsPermanent = %v, want %v", tt.name, got, tt.want)
		}
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	if p := Permanent(base); p.Error() != base.Error() || !errors.Is(p, base) {
		t.Errorf("Permanent changed the message or hid the cause: %v", p)
	}
}
