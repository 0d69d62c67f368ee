package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"grace/engine"
	"grace/engine/clock"
	"grace/engine/httpapi"
	"grace/engine/intent"
	"grace/engine/worker"
	"grace/store"
)

// httpBench is one HTTP API under measurement: a real store and a started
// engine behind the API on a loopback port, an agent identity's token, and
// a keep-alive client with one connection per concurrent submitter.
type httpBench struct {
	eng    *engine.Engine
	st     *store.Store
	url    string
	token  string
	client *http.Client
	body   []byte
	stop   func()
	// clients is how many submitters run at once, each on its own
	// keep-alive connection; raw says they are rawSubmitters, not Go's
	// http.Client.
	clients int
	raw     bool
}

// startHTTPBench opens the store in dir (synchronous=FULL: every 202 is
// durable) and serves the engine on 127.0.0.1. htm_rate_limit is off: the
// figure is the API's capacity, not the configured intake rate.
func startHTTPBench(ctx context.Context, dir string, capacity, clients int, raw bool) (_ *httpBench, err error) {
	cfg := engine.Default()
	cfg.DB = filepath.Join(dir, "grace.db")
	cfg.Cortex.Enabled = false
	cfg.HTM.Capacity = capacity + 2
	cfg.HTM.WarnDepth, cfg.HTM.CriticalDepth = capacity+1, capacity+2
	cfg.Workers.Count = 8
	cfg.Handlers = map[string]worker.HandlerConfig{"default": {Kind: "noop"}}
	cfg.Safeguards[engine.SafeguardRateLimit] = engine.SafeguardConfig{Enabled: false}
	token := "bench-agent-token"
	cfg.Identities = []engine.IdentityConfig{{Name: "agent.bench", Role: engine.RoleAgent, TokenSHA256: httpapi.TokenHash(token)}}
	st, err := store.Open(ctx, cfg.DB, storeOptions(cfg, false, false, "grace bench", slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, err
	}
	var stops []func()
	b := &httpBench{token: token, clients: clients, raw: raw, stop: func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}}
	defer func() {
		if err != nil {
			b.stop()
		}
	}()
	stops = append(stops, func() { _ = st.Close() })
	b.st = st
	eng, err := engine.New(cfg, engine.Deps{Store: st, Clock: clock.Real{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := eng.Start(ctx); err != nil {
		return nil, err
	}
	stops = append(stops, eng.Stop)
	b.eng = eng
	ids, err := httpapi.IdentitiesFromConfig(cfg.Identities)
	if err != nil {
		return nil, err
	}
	h := httpapi.NewHandler(eng, httpapi.Options{Identities: ids, Refusals: eng})
	srv := httpapi.NewServer(h, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	stops = append(stops, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	})
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	stops = append(stops, tr.CloseIdleConnections)
	b.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	b.url = "http://" + ln.Addr().String() + "/v1/intents"
	b.body = []byte(`{"type":"query_knowledge","payload":{"q":"status of kernel 7"},"priority":5}`)
	return b, nil
}

// submitter is one keep-alive client sending b's submission.
type submitter interface {
	// submit sends one authenticated submission and checks its 202.
	submit() error
	// close ends its connection.
	close()
}

// newSubmitter returns a submitter for b's submissions under ctx: a
// rawSubmitter, or Go's http.Client (goSubmitter).
func (b *httpBench) newSubmitter(ctx context.Context) (submitter, error) {
	if b.raw {
		s, err := b.newRawSubmitter(ctx)
		if err != nil {
			return nil, err // not a nil *rawSubmitter in the interface
		}
		return s, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, http.NoBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(b.body))
	return &goSubmitter{b: b, req: req}, nil
}

// clientNote names the load generator in a figure's note.
func (b *httpBench) clientNote() string {
	if b.raw {
		return fmt.Sprintf("%d keep-alive connections, one request in flight each, written and read as lean as wrk does (--http-client raw)", b.clients)
	}
	return fmt.Sprintf("%d keep-alive clients of Go's http.Client (--http-client go)", b.clients)
}

// goSubmitter is one http.Client keep-alive client's reusable request:
// building a request (URL parse, header map) for every submission would
// spend the machine's CPU on the load generator rather than on the API
// measured.
type goSubmitter struct {
	b   *httpBench
	req *http.Request
	rd  bytes.Reader
}

func (s *goSubmitter) close() {}

// submit sends one authenticated submission and checks its 202. The
// request is reused only once the previous response's body is closed, as
// net/http allows.
func (s *goSubmitter) submit() error {
	s.rd.Reset(s.b.body)
	s.req.Body = io.NopCloser(&s.rd)
	resp, err := s.b.client.Do(s.req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("submit: %s", resp.Status)
	}
	return nil
}

// saturate sends n submissions from b.clients submitters as fast as
// they are answered and returns submissions per second.
func (b *httpBench) saturate(ctx context.Context, n int) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, b.clients)
	start := time.Now()
	for range b.clients {
		wg.Go(func() {
			s, err := b.newSubmitter(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer s.close()
			for next.Add(1) <= int64(n) {
				if err := s.submit(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// drain waits until the engine has run everything submitted so far and
// the full-text index has caught up with its records, so that one
// measurement does not pay for the last one's backlog.
func (b *httpBench) drain(ctx context.Context) error {
	for {
		s := b.eng.Snapshot()
		if s.QueueDepth == 0 && s.WorkersBusy == 0 {
			// The workers' last updates may still wait for the writer:
			// an empty change behind them is answered once they are in.
			written := make(chan error, 1)
			b.st.ApplyAsync(&intent.Change{}, func(_ intent.Result, err error) { written <- err })
			select {
			case err := <-written:
				if err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
			return b.st.FlushIndex(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// paced sends rate submissions per second for d, open loop: each one is
// due at its slot and its latency counts from that slot, so a stall shows
// as latency rather than as a slower sender. It returns the latencies.
func (b *httpBench) paced(ctx context.Context, rate float64, d time.Duration) ([]time.Duration, error) {
	n := int(rate * d.Seconds())
	due := make(chan time.Time, n)
	lat := make([][]time.Duration, b.clients)
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for i := range b.clients {
		wg.Go(func() {
			s, err := b.newSubmitter(ctx)
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			} else {
				defer s.close()
			}
			for at := range due {
				if s == nil {
					continue
				}
				if err := s.submit(); err != nil {
					failed.CompareAndSwap(nil, &err)
					continue
				}
				lat[i] = append(lat[i], time.Since(at))
			}
		})
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		if wait := time.Until(at); wait > 0 {
			time.Sleep(wait)
		}
		due <- at
	}
	close(due)
	wg.Wait()
	if err := failed.Load(); err != nil {
		return nil, *err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return nil, errors.New("no submissions answered")
	}
	return all, nil
}

// httpBenchPlan is what benchHTTP sends: n submissions as fast as they
// are answered, then rate a second for paceFor.
type httpBenchPlan struct {
	n, clients int
	raw        bool // rawSubmitters, not Go's http.Client
	rate       float64
	// intakeRate is the rate of the latency measured with the scheduler
	// paused (intake alone).
	intakeRate float64
	paceFor    time.Duration
}

// benchHTTP measures authenticated submissions over loopback HTTP: the
// most per second, then the latency at a fixed rate (by default 10,000 a
// second, half the 20,000/s target).
func benchHTTP(ctx context.Context, dir string, plan httpBenchPlan, emit func(benchResult)) error {
	n := plan.n
	b, err := startHTTPBench(ctx, dir, 4*n, plan.clients, plan.raw)
	if err != nil {
		return err
	}
	defer b.stop()
	if _, err := b.saturate(ctx, n/10); err != nil { // warm up: connections, caches
		return err
	}
	if err := b.drain(ctx); err != nil {
		return err
	}
	before, cpu0 := b.st.Stats(), processCPU()
	rate, err := b.saturate(ctx, n)
	if err != nil {
		return err
	}
	cpu, after := processCPU()-cpu0, b.st.Stats()
	emit(benchResult{"http_submit", rate, "intents/s",
		fmt.Sprintf("%d authenticated Tier 2 submissions over loopback HTTP from %s, each durable (synchronous=FULL) before its 202; workers running; %s",
			n, b.clientNote(), costNote(cpu, n, before, after))})
	if err := b.drain(ctx); err != nil {
		return err
	}
	load := watchLoad()
	lat, err := b.paced(ctx, plan.rate, plan.paceFor)
	if err != nil {
		return err
	}
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	emit(benchResult{fmt.Sprintf("http_submit_p99_at_%g", plan.rate), ms(p99), "ms",
		withLoad(fmt.Sprintf("open loop at %g/s for %v (latency from each request's slot) from %s, median %.2f ms",
			plan.rate, plan.paceFor, b.clientNote(), ms(p50)), load)})
	if err := b.drain(ctx); err != nil {
		return err
	}
	if err := b.batched(ctx, n, false, "http_submit_batch", "workers running", emit); err != nil {
		return err
	}
	if err := b.drain(ctx); err != nil {
		return err
	}
	// The workers may fall behind here (the changes counted show it): the
	// queue they leave is drained before the next figure.
	if err := b.batched(ctx, n, true, "http_submit_batch_atomic", "workers running", emit); err != nil {
		return err
	}
	if err := b.drain(ctx); err != nil {
		return err
	}
	return b.intakeOnly(ctx, plan, emit)
}

// Batches for http_submit_batch: batchSize submissions a request from
// batchClients clients.
const (
	batchSize    = 100
	batchClients = 16
)

// batched measures n submissions sent batchSize at a time through POST
// /v1/intents/batch, each governed and durable before the answer: what an
// agent that submits in bulk gets; allOrNone sends them "atomic": true
// (each batch one transaction). name and what say which figure it is.
func (b *httpBench) batched(ctx context.Context, n int, allOrNone bool, name, what string, emit func(benchResult)) error {
	var body bytes.Buffer
	head, note := `{"intents":[`, ""
	if allOrNone {
		head, note = `{"atomic":true,"intents":[`, `, "atomic": true: each batch one transaction, all or none`
	}
	body.WriteString(head)
	for i := range batchSize {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(b.body)
	}
	body.WriteString(`]}`)
	batches := max(n/batchSize, 1)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, batchClients)
	before, cpu0 := b.st.Stats(), processCPU()
	start := time.Now()
	for range batchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(batches) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/batch", bytes.NewReader(body.Bytes()))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Authorization", "Bearer "+b.token)
				resp, err := b.client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !bytes.Contains(out, []byte(`"refused":0`)) {
					errs <- fmt.Errorf("submit batch: %s: %.200s", resp.Status, out)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	rate := float64(batches*batchSize) / time.Since(start).Seconds()
	cpu, after := processCPU()-cpu0, b.st.Stats()
	emit(benchResult{name, rate, "intents/s",
		fmt.Sprintf("%d submissions in batches of %d (POST /v1/intents/batch%s) from %d keep-alive clients, each governed and durable before its batch's answer; %s; %s",
			batches*batchSize, batchSize, note, batchClients, what, costNote(cpu, batches*batchSize, before, after))})
	return nil
}

// intakeOnly measures n submissions with the scheduler paused: what
// accepting an intent costs (authentication, governance, the durable
// intent row and its submission records) without the dispatch and
// completion writes the workers add, the figure a job queue's enqueue
// benchmark gives. It runs last: the scheduler is resumed after, and the
// n queued intents are left for the engine's stop.
func (b *httpBench) intakeOnly(ctx context.Context, plan httpBenchPlan, emit func(benchResult)) error {
	n := plan.n
	if err := b.eng.PauseScheduler(ctx, "bench", "measure intake alone"); err != nil {
		return err
	}
	before, cpu0 := b.st.Stats(), processCPU()
	rate, err := b.saturate(ctx, n)
	cpu, after := processCPU()-cpu0, b.st.Stats()
	if err == nil {
		emit(benchResult{"http_submit_intake", rate, "intents/s",
			fmt.Sprintf("as http_submit with the scheduler paused: intake alone, nothing dispatched; %s", costNote(cpu, n, before, after))})
		var lat []time.Duration
		load := watchLoad()
		if lat, err = b.paced(ctx, plan.intakeRate, plan.paceFor); err == nil {
			emit(benchResult{fmt.Sprintf("http_submit_intake_p99_at_%g", plan.intakeRate), ms(percentile(lat, 99)), "ms",
				withLoad(fmt.Sprintf("as http_submit_p99 with the scheduler paused: intake alone, open loop at %g/s for %v, median %.2f ms",
					plan.intakeRate, plan.paceFor, ms(percentile(lat, 50))), load)})
		}
	}
	if err == nil {
		err = b.batched(ctx, n, false, "http_submit_batch_intake", "the scheduler paused: intake alone", emit)
	}
	if err == nil {
		err = b.batched(ctx, n, true, "http_submit_batch_atomic_intake", "the scheduler paused: intake alone", emit)
	}
	if rerr := b.eng.ResumeScheduler(ctx, "bench", "intake measured"); err == nil {
		err = rerr
	}
	return err
}

// costNote describes what the n submissions of one measurement cost: the
// process's CPU time per submission (server, engine, store and the client
// alike) and how the store grouped the writes.
func costNote(cpu time.Duration, n int, before, after store.Stats) string {
	batches, changes := after.Batches-before.Batches, after.Changes-before.Changes
	note := fmt.Sprintf("%d changes in %d group commits", changes, batches)
	if batches > 0 {
		note = fmt.Sprintf("%s (%.0f a commit)", note, float64(changes)/float64(batches))
	}
	if cpu > 0 && n > 0 {
		note = fmt.Sprintf("%.0f µs CPU a submission, %s", float64(cpu.Microseconds())/float64(n), note)
	}
	return note
}

// percentile returns the p-th percentile of ds (which it sorts).
func percentile(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	i := (len(ds)*p+99)/100 - 1
	return ds[max(i, 0)]
}
