package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"

	"grace/engine"
	"grace/engine/intent"
)

// MaxBatch is the most submissions one POST /v1/intents/batch may carry.
const MaxBatch = 1000

// batchParallel is how many of a batch's submissions are in the engine at
// once: enough that the store commits many of them together, few enough
// that one batch does not crowd out other callers.
const batchParallel = 64

// BatchRequest is the body of POST /v1/intents/batch.
type BatchRequest struct {
	Intents []json.RawMessage `json:"intents"`
	// Atomic stores all or none: when any submission would be refused,
	// none is stored and the answer is batch_refused (see submitAtomic).
	Atomic bool `json:"atomic,omitempty"`
}

// BatchResult is one submission's outcome in a batch, at its position:
// Status is what POST /v1/intents would have answered (202 new, 200 the
// same submission under a taken idempotency key, 409, 422, 429, 503, 500),
// with the fields of that answer.
type BatchResult struct {
	Status int `json:"status"`
	// A stored (or existing) intent's ID, state and decision.
	ID       string           `json:"id,omitempty"`
	State    intent.State     `json:"state,omitempty"`
	Decision *intent.Decision `json:"decision,omitempty"`
	Existing bool             `json:"existing,omitempty"`
	// A refused submission's error and, for 422, every problem.
	Error    *ErrorBody       `json:"error,omitempty"`
	Problems []engine.Problem `json:"problems,omitempty"`
}

// BatchResponse is the answer to POST /v1/intents/batch: one result per
// submission, in order, and how many were accepted (202 or 200) and
// refused.
type BatchResponse struct {
	Results  []BatchResult `json:"results"`
	Accepted int           `json:"accepted"`
	Refused  int           `json:"refused"`
	Atomic   bool          `json:"atomic,omitempty"` // stored all together (BatchRequest.Atomic)
}

// submitBatch handles POST /v1/intents/batch: up to MaxBatch submissions
// in one request, each governed exactly as POST /v1/intents governs one
// (validation, routing, rate limits, queue room, idempotency, the record),
// and each durable before the answer. A batch that is malformed anywhere
// (any item that does not decode as a submission, or names an actor other
// than the caller) is refused whole, 400 or 403 naming the item
// (intents[3].priority), and nothing is stored. Otherwise the answer is
// 200 with one result per item, in order: what the engine made of each is
// that item's own (one may be stored and the next rate limited). Items
// sharing an idempotency key are submitted in batch order; the others at
// once, so that the store commits many together.
func (h *Handler) submitBatch(w http.ResponseWriter, r *http.Request) error {
	var req BatchRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	switch n := len(req.Intents); {
	case n == 0:
		return newError(http.StatusBadRequest, CodeWrongType, "intents", "intents must list at least one submission")
	case n > MaxBatch:
		return newError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "intents", "a batch carries at most %d submissions, got %d: split it", MaxBatch, n)
	}
	p := principalOf(r)
	subs := make([]intent.Submission, len(req.Intents))
	for i, raw := range req.Intents {
		sub, err := decodeItem(raw, fmt.Sprintf("intents[%d]", i))
		if err != nil {
			return err
		}
		if sub.Actor, err = actorFor(p, r, sub.Actor); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				ae.body.Field = fmt.Sprintf("intents[%d].%s", i, ae.body.Field)
			}
			return err
		}
		subs[i] = sub
	}

	if req.Atomic {
		return h.submitAtomic(w, r, subs)
	}
	resp := BatchResponse{Results: SubmitAll(r.Context(), h.api, subs, h.log)}
	for _, res := range resp.Results {
		if res.Error == nil {
			resp.Accepted++
		} else {
			resp.Refused++
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// chains orders a batch for submitting: submissions that share an
// idempotency key (and actor) go one after another in batch order, so the
// first is the one stored and the later ones are answered as its retries
// (or conflicts), as if the batch were sent one by one; all the others
// are chains of one, submitted at once.
func chains(subs []intent.Submission) [][]int {
	var out [][]int
	byKey := map[[2]string]int{} // actor and key → its chain
	for i, sub := range subs {
		if sub.IdempotencyKey == "" {
			out = append(out, []int{i})
			continue
		}
		k := [2]string{sub.Actor, sub.IdempotencyKey}
		if c, ok := byKey[k]; ok {
			out[c] = append(out[c], i)
			continue
		}
		byKey[k] = len(out)
		out = append(out, []int{i})
	}
	return out
}

// Submitter is what SubmitAll submits through: the engine, or a client.
type Submitter interface {
	Submit(ctx context.Context, sub intent.Submission) (engine.SubmitResult, error)
}

// SubmitAll submits subs through s as POST /v1/intents/batch does and
// returns one result per submission, in order: those sharing an
// idempotency key one after another in order, the others at once (at
// most 64 in the engine together), so that the store commits many in one
// go. Each result is what POST /v1/intents would have answered. log
// receives the failures that are not the caller's (500).
func SubmitAll(ctx context.Context, s Submitter, subs []intent.Submission, log *slog.Logger) []BatchResult {
	out := make([]BatchResult, len(subs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, batchParallel)
	for _, chain := range chains(subs) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, i := range chain {
				out[i] = submitOne(ctx, s, subs[i], log)
			}
		}()
	}
	wg.Wait()
	return out
}

// submitOne submits one item of a batch and says how it went.
func submitOne(ctx context.Context, s Submitter, sub intent.Submission, log *slog.Logger) BatchResult {
	res, err := s.Submit(ctx, sub)
	if err == nil {
		return acceptedResult(res)
	}
	return refusedResult(err, sub, log)
}

// acceptedResult is the batch result of a stored (or existing) intent.
func acceptedResult(res engine.SubmitResult) BatchResult {
	d := res.Intent.Decision
	out := BatchResult{Status: http.StatusAccepted, ID: res.Intent.ID, State: res.Intent.State, Decision: &d, Existing: res.Existing}
	if res.Existing {
		out.Status = http.StatusOK
	}
	return out
}

// refusedResult is the batch result of sub refused with err, as POST
// /v1/intents would have answered it.
func refusedResult(err error, sub intent.Submission, log *slog.Logger) BatchResult {
	var ae *apiError
	var conflict *engine.IdempotencyConflictError
	var ce *Error
	switch {
	case errors.As(err, &conflict):
		ae = newError(http.StatusConflict, CodeIdempotencyConflict, "idempotency_key", "%s", conflict.Error())
	case errors.As(err, &ce): // a client's answer, as the server gave it
		ae = newError(ce.Status, ce.Code, ce.Field, "%s", ce.Message)
	default:
		var ok bool
		if ae, ok = fromEngine(err); !ok && log != nil {
			log.Error("batch submission failed", "type", sub.Type, "actor", sub.Actor, "err", err)
		}
	}
	body := ae.body
	body.Message = clipText(body.Message, maxMessageBytes)
	return BatchResult{Status: ae.status, Error: &body, Problems: ae.problems}
}

// decodeItem decodes one submission of a batch as POST /v1/intents decodes
// its body, naming the item (at) in any error.
func decodeItem(raw json.RawMessage, at string) (intent.Submission, error) {
	var req SubmitRequest
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return intent.Submission{}, newError(http.StatusBadRequest, CodeWrongType, at, "%s must be a JSON object (a submission)", at)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber() // as decodeBody: the context's numbers as written
	err := dec.Decode(&req)
	if err == nil {
		if _, tail := dec.Token(); !errors.Is(tail, io.EOF) {
			err = errors.New("data after the object")
		}
	}
	if err == nil {
		err = checkNames(raw, fieldsOf(&req))
	}
	var sub intent.Submission
	if err == nil {
		sub, err = req.Submission()
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = classifyDecodeError(err).(*apiError)
		}
		if ae.body.Field != "" {
			ae.body.Field = at + "." + ae.body.Field
		} else {
			ae.body.Field = at
		}
		ae.body.Message = at + ": " + ae.body.Message
		return intent.Submission{}, ae
	}
	return sub, nil
}

// submitAtomic answers POST /v1/intents/batch with "atomic": true through
// engine.AtomicSubmitter: 200 with every submission's result when all are
// stored (or were already, under their keys), else nothing is stored and
// the answer is batch_refused with the status of the first refused
// submission (422, 409, 429 with Retry-After, 503), field naming it
// (intents[3]), and results: each refused submission's own error, the
// others 424 not_stored.
func (h *Handler) submitAtomic(w http.ResponseWriter, r *http.Request, subs []intent.Submission) error {
	as, ok := h.api.(engine.AtomicSubmitter)
	if !ok {
		return newError(http.StatusNotImplemented, CodeNotImplemented, "atomic", "this server cannot store a batch all or none")
	}
	res, err := as.SubmitAtomic(r.Context(), subs)
	var br *engine.BatchRefusedError
	if errors.As(err, &br) {
		results, _ := AtomicResults(subs, nil, err, h.log)
		first := br.Items[0].Index
		ae := newError(results[first].Status, CodeBatchRefused, fmt.Sprintf("intents[%d]", first), "%s", br.Error())
		var rl *engine.RateLimitError
		if errors.As(br.Items[0].Err, &rl) {
			ae.retryAfter = rl.RetryAfter
		}
		writeRefusedBatch(w, ae, results)
		return nil // each refusal is the engine's, on the record as alone
	}
	if err != nil {
		return err
	}
	results, _ := AtomicResults(subs, res, nil, h.log)
	writeJSON(w, http.StatusOK, BatchResponse{Results: results, Accepted: len(results), Atomic: true})
	return nil
}

// AtomicResults turns what SubmitAtomic returned for subs into one batch
// result per submission: each stored intent's, or for a batch refused
// whole (*engine.BatchRefusedError) each refused submission's own error
// and 424 not_stored for the others. Any other error is returned as it
// is. log receives the failures that are not the caller's.
func AtomicResults(subs []intent.Submission, res []engine.SubmitResult, err error, log *slog.Logger) ([]BatchResult, error) {
	var br *engine.BatchRefusedError
	switch {
	case errors.As(err, &br):
		first := br.Items[0].Index
		out := make([]BatchResult, len(subs))
		for i := range out {
			out[i] = BatchResult{Status: http.StatusFailedDependency, Error: &ErrorBody{Code: CodeNotStored,
				Message: fmt.Sprintf("not stored: the atomic batch was refused (intents[%d])", first)}}
		}
		for _, it := range br.Items {
			out[it.Index] = refusedResult(it.Err, subs[it.Index], log)
		}
		return out, nil
	case err != nil:
		return nil, err
	}
	out := make([]BatchResult, len(res))
	for i, r := range res {
		out[i] = acceptedResult(r)
	}
	return out, nil
}

// writeRefusedBatch answers an atomic batch refused whole: e's status and
// error, with every submission's result.
func writeRefusedBatch(w http.ResponseWriter, e *apiError, results []BatchResult) {
	e.body.Message = clipText(e.body.Message, maxMessageBytes)
	if e.retryAfter > 0 || e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.retryAfter.Seconds())))))
	}
	writeJSON(w, e.status, ErrorResponse{Error: e.body, Results: results})
}
