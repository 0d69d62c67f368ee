package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"grace/engine"
	"grace/engine/httpapi"
	"grace/engine/intent"
)

// maxBatchFile bounds what intent batch reads.
const maxBatchFile = 256 << 20

// batchCommand is "grace intent batch FILE".
func (a *app) batchCommand() *cobra.Command {
	var atomic bool
	cmd := &cobra.Command{
		Use:   "batch FILE",
		Short: "Submit many intents at once, from a JSON Lines file (- for standard input)",
		Long: `Submit many intents at once. FILE (- for standard input) holds one
submission per line as a JSON object, as POST /v1/intents takes it:
{"type": "...", "actor": "...", "payload": {...}, "context": {...},
"priority": N, "idempotency_key": "..."}; blank lines are skipped, and a
file that is one JSON array of them is read too. Each is governed as
"intent submit" governs one. They go to a running server 1000 per request
(POST /v1/intents/batch), or to the database directly when no server
answers.

A line that does not read as a submission stops the command before
anything is sent, naming the line. Otherwise it prints one line per
submission, in order ("3  int_…  queued", or "4  refused  422
invalid_intent: …"; with --json the results), and exits 1 when any was
refused.

With --atomic the batch (at most 1000) is stored all or none: if any
submission would be refused, none is stored; the refused ones are
printed with their errors and the others as not_stored (424).`,
		Args: oneArg("FILE: a JSON Lines file of submissions, or - for standard input", ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			subs, err := readBatch(cmd, args[0])
			if err != nil {
				return err
			}
			if atomic && len(subs) > httpapi.MaxBatch {
				return usageErrorf("--atomic stores one request's submissions all or none: at most %d, and %s holds %d; split it", httpapi.MaxBatch, args[0], len(subs))
			}
			return a.withIntents(cmd, writeIntents, func(ctx context.Context, b intentBackend) error {
				submit := submitBatch
				if atomic {
					submit = submitAtomic
				}
				results, err := submit(ctx, b, subs)
				if err != nil {
					return err
				}
				return a.reportBatch(results, atomic)
			})
		},
	}
	cmd.Flags().BoolVar(&atomic, "atomic", false, "store all or none: if any submission would be refused, none is stored (at most 1000)")
	a.addJSONFlag(cmd)
	return cmd
}

// submitAtomic sends subs through b all or none (POST /v1/intents/batch
// with "atomic": true, or the engine's SubmitAtomic on the database).
func submitAtomic(ctx context.Context, b intentBackend, subs []intent.Submission) ([]httpapi.BatchResult, error) {
	if _, remote := b.(*httpapi.Client); !remote {
		for i := range subs {
			if strings.TrimSpace(subs[i].Actor) == "" {
				subs[i].Actor = defaultActor()
			}
		}
	}
	as, ok := b.(engine.AtomicSubmitter)
	if !ok {
		return nil, errors.New("this backend cannot store a batch all or none")
	}
	res, err := as.SubmitAtomic(ctx, subs)
	var ae *httpapi.Error
	if errors.As(err, &ae) && ae.Code == httpapi.CodeBatchRefused && len(ae.Results) == len(subs) {
		return ae.Results, nil // the server's own account of each
	}
	return httpapi.AtomicResults(subs, res, err, nil)
}

// submitBatch sends subs through b: over HTTP in requests of at most
// httpapi.MaxBatch, or to the engine as the server would.
func submitBatch(ctx context.Context, b intentBackend, subs []intent.Submission) ([]httpapi.BatchResult, error) {
	c, remote := b.(*httpapi.Client)
	if !remote {
		for i := range subs {
			if strings.TrimSpace(subs[i].Actor) == "" {
				subs[i].Actor = defaultActor()
			}
		}
		return httpapi.SubmitAll(ctx, b, subs, nil), nil
	}
	var out []httpapi.BatchResult
	for start := 0; start < len(subs); start += httpapi.MaxBatch {
		part := subs[start:min(start+httpapi.MaxBatch, len(subs))]
		res, err := c.SubmitBatch(ctx, part)
		if err != nil {
			if start > 0 {
				return nil, fmt.Errorf("submissions %d to %d: %w (the %d before them were sent)", start+1, start+len(part), err, start)
			}
			return nil, err
		}
		out = append(out, res...)
	}
	return out, nil
}

// reportBatch prints the results and fails when any was refused; atomic
// says the batch was stored all or none.
func (a *app) reportBatch(results []httpapi.BatchResult, atomic bool) error {
	resp := httpapi.BatchResponse{Results: results, Atomic: atomic}
	for _, r := range results {
		if r.Error == nil {
			resp.Accepted++
		} else {
			resp.Refused++
		}
	}
	if a.json {
		if err := a.writeJSON(resp); err != nil {
			return err
		}
	} else {
		first := slices.IndexFunc(results, func(r httpapi.BatchResult) bool { return r.Error != nil && r.Error.Code != httpapi.CodeNotStored })
		for i, r := range results {
			if r.Error != nil && r.Error.Code == httpapi.CodeNotStored && first >= 0 {
				// The server names the refused one by its place in the request
				// (intents[0] first); here each is numbered from 1.
				fmt.Fprintf(a.stdout, "%d\trefused\t%d %s: not stored: the batch is all or none, and %d was refused\n", i+1, r.Status, r.Error.Code, first+1)
				continue
			}
			if r.Error != nil {
				fmt.Fprintf(a.stdout, "%d\trefused\t%d %s: %s\n", i+1, r.Status, r.Error.Code, oneLine(r.Error.Message))
				continue
			}
			note := ""
			if r.Existing {
				note = "\t(existing: its idempotency key named it)"
			}
			fmt.Fprintf(a.stdout, "%d\t%s\t%s%s\n", i+1, r.ID, r.State, note)
		}
	}
	if resp.Refused > 0 && atomic {
		fault := 0
		for _, r := range results {
			if r.Error != nil && r.Error.Code != httpapi.CodeNotStored {
				fault++
			}
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("atomic batch refused: %d of %d submissions would be refused, so none of the %d was stored", fault, len(results), len(results))}
	}
	if resp.Refused > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d of %d submissions refused (%d accepted)", resp.Refused, len(results), resp.Accepted)}
	}
	return nil
}

// readBatch reads the submissions of FILE (- for standard input): JSON
// Lines, or one JSON array. A submission that does not read names its line.
func readBatch(cmd *cobra.Command, name string) ([]intent.Submission, error) {
	var r io.Reader
	switch {
	case name == "-":
		r, name = cmd.InOrStdin(), "standard input"
	case strings.TrimSpace(name) == "":
		return nil, usageErrorf("intent batch: the file name is empty; name a JSON Lines file, or - for standard input")
	default:
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("%s: %w", name, unwrapPath(err))
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, usageErrorf("%s is a directory, not a JSON Lines file", name)
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxBatchFile+1))
	if err != nil {
		return nil, usageErrorf("%s: read: %w", name, unwrapPath(err))
	}
	if len(data) > maxBatchFile {
		return nil, usageErrorf("%s is larger than %d MiB: split it", name, maxBatchFile>>20)
	}
	data = bytes.TrimPrefix(data, []byte(utf8BOM)) // some editors write one; it is not JSON
	var subs []intent.Submission
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, usageErrorf("%s: not a JSON array of submissions: %v", name, err)
		}
		for i, raw := range items {
			sub, err := readSubmission(raw)
			if err != nil {
				return nil, usageErrorf("%s: item %d: %v", name, i+1, err)
			}
			subs = append(subs, sub)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), maxBatchFile)
		for line := 1; sc.Scan(); line++ {
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			sub, err := readSubmission(text)
			if err != nil {
				return nil, usageErrorf("%s line %d: %v", name, line, err)
			}
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return nil, usageErrorf("%s holds no submissions", name)
	}
	return subs, nil
}

// submissionFields are the names a submission may give.
var submissionFields = map[string]bool{"type": true, "actor": true, "payload": true, "context": true, "priority": true, "idempotency_key": true, "not_before": true}

// readSubmission reads one submission as POST /v1/intents takes it:
// unknown fields, names in another case and names given twice refused.
func readSubmission(raw []byte) (intent.Submission, error) {
	var req httpapi.SubmitRequest
	if !utf8.Valid(raw) {
		// encoding/json would read each bad byte as U+FFFD: the
		// submission would not be the one written.
		return intent.Submission{}, errors.New(notUTF8(string(raw)))
	}
	if !json.Valid(raw) {
		err := json.Unmarshal(raw, &req)
		return intent.Submission{}, fmt.Errorf("not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if raw[0] != '{' {
		return intent.Submission{}, errors.New("not a JSON object (a submission)")
	}
	dup, err := engine.ScanNames(raw, func(key string) error {
		if !submissionFields[key] {
			return fmt.Errorf("unknown field %q (names are case-sensitive: type, actor, payload, context, priority, idempotency_key, not_before)", key)
		}
		return nil
	})
	switch {
	case err != nil:
		return intent.Submission{}, err
	case dup != "":
		return intent.Submission{}, fmt.Errorf("%s is given twice", dup)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // the context's numbers as written: Submission refuses one it would round
	if err := dec.Decode(&req); err != nil {
		if reason, ok := httpapi.JSONTypeReason(err); ok {
			return intent.Submission{}, errors.New(reason)
		}
		return intent.Submission{}, errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return req.Submission()
}
