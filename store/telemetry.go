package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"

	"grace/engine/watchdog"
)

// The store keeps the watchdog's history (schema migration 3): one row per
// telemetry snapshot, its JSON in the seed's shape, and one row per alert,
// replaced as the alert changes. It implements watchdog.History.
var _ watchdog.History = (*Store)(nil)

// alertCols are the alerts table's columns in scanAlert's order.
const alertCols = "id, key, component, condition, severity, peak, summary, first_seen, last_seen, count, resolved_at, resolution"

// SaveCycle writes one watchdog check in one transaction on the writer,
// between group commits: the telemetry snapshot, every alert the check
// raised, updated or resolved (each replacing its stored row), and the
// deletion of snapshots taken before c.TelemetryBefore and of alerts
// resolved before c.AlertsBefore. It fails with ErrReadOnly on a read-only
// store and returns ctx's error if ctx ends first (the write may still
// happen).
func (s *Store) SaveCycle(ctx context.Context, c watchdog.CycleRecord) error {
	snap, err := json.Marshal(c.Telemetry)
	if err != nil {
		return fmt.Errorf("save telemetry: encode snapshot: %w", err)
	}
	err = s.do(ctx, func(w *writer) error { return w.saveCycle(snap, c) })
	if err != nil {
		return fmt.Errorf("save telemetry to %s: %w", s.path, err)
	}
	return nil
}

// saveCycle runs on the writer goroutine.
func (w *writer) saveCycle(snap []byte, c watchdog.CycleRecord) (err error) {
	if _, err := w.conn.exec(w.st.begin); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_, _ = w.conn.exec(w.st.rollback)
		}
	}()
	t := c.Telemetry
	if _, err := w.conn.execOnce(`INSERT INTO telemetry(ts, status, ready, snapshot) VALUES (?, ?, ?, ?)`,
		t.At.UnixNano(), t.Status.String(), boolInt(t.Ready), string(snap)); err != nil {
		return fmt.Errorf("insert snapshot: %w", err)
	}
	for _, a := range c.Alerts {
		if _, err := w.conn.execOnce(`INSERT OR REPLACE INTO alerts(`+alertCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			a.ID, a.Key, a.Component, a.Condition, a.Severity.String(), a.Peak.String(), a.Summary,
			a.FirstSeen.UnixNano(), a.LastSeen.UnixNano(), int64(a.Count), nanos(a.ResolvedAt), a.Resolution); err != nil {
			return fmt.Errorf("write alert %s: %w", a.ID, err)
		}
	}
	if !c.TelemetryBefore.IsZero() {
		if _, err := w.conn.execOnce(`DELETE FROM telemetry WHERE ts < ?`, c.TelemetryBefore.UnixNano()); err != nil {
			return fmt.Errorf("drop old snapshots: %w", err)
		}
	}
	if !c.AlertsBefore.IsZero() {
		if _, err := w.conn.execOnce(`DELETE FROM alerts WHERE resolved_at IS NOT NULL AND resolved_at < ?`, c.AlertsBefore.UnixNano()); err != nil {
			return fmt.Errorf("drop old alerts: %w", err)
		}
	}
	if _, err := w.conn.exec(w.st.commit); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// execOnce prepares query, runs it with args and finalizes it: for the
// occasional statement not worth keeping prepared for the store's life.
func (w *wconn) execOnce(query string, args ...any) (int64, error) {
	st, err := w.c.(driver.ConnPrepareContext).PrepareContext(bg, query)
	if err != nil {
		return 0, fmt.Errorf("prepare %q: %w", firstLine(query), err)
	}
	n, err := w.exec(st, args...)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return n, err
}

// Alerts returns the alerts matching q, most recently seen first.
func (s *Store) Alerts(ctx context.Context, q watchdog.AlertQuery) ([]watchdog.Alert, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if q.Firing {
		where = append(where, "resolved_at IS NULL")
	}
	if !q.Since.IsZero() {
		where = append(where, "last_seen >= ?")
		args = append(args, boundNanos(q.Since))
	}
	query := "SELECT " + alertCols + " FROM alerts"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY last_seen DESC, id DESC LIMIT ?"
	rows, err := s.rdb.QueryContext(ctx, query, append(args, int64(limitOr(q.Limit)))...)
	if err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	defer rows.Close()
	var out []watchdog.Alert
	for rows.Next() {
		var a watchdog.Alert
		var sev, peak string
		var first, last, count int64
		var resolved any
		if err := rows.Scan(&a.ID, &a.Key, &a.Component, &a.Condition, &sev, &peak, &a.Summary,
			&first, &last, &count, &resolved, &a.Resolution); err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		if a.Severity, err = watchdog.ParseStatus(sev); err != nil {
			return nil, fmt.Errorf("read alert %s: severity: %w", a.ID, err)
		}
		if a.Peak, err = watchdog.ParseStatus(peak); err != nil {
			return nil, fmt.Errorf("read alert %s: peak: %w", a.ID, err)
		}
		a.FirstSeen, a.LastSeen, a.Count, a.ResolvedAt = when(first), when(last), int(count), when(resolved)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read alerts: %w", err)
	}
	return out, nil
}

// Telemetry returns the snapshots matching q, newest first.
func (s *Store) Telemetry(ctx context.Context, q watchdog.TelemetryQuery) ([]watchdog.Telemetry, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if !q.Since.IsZero() {
		where = append(where, "ts >= ?")
		args = append(args, boundNanos(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "ts <= ?")
		args = append(args, boundNanos(q.Until))
	}
	query := "SELECT id, snapshot FROM telemetry"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY ts DESC, id DESC LIMIT ?"
	rows, err := s.rdb.QueryContext(ctx, query, append(args, int64(limitOr(q.Limit)))...)
	if err != nil {
		return nil, fmt.Errorf("read telemetry: %w", err)
	}
	defer rows.Close()
	var out []watchdog.Telemetry
	for rows.Next() {
		var id int64
		var raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, fmt.Errorf("read telemetry: %w", err)
		}
		var t watchdog.Telemetry
		if err := json.Unmarshal([]byte(raw), &t); err != nil {
			return nil, fmt.Errorf("read telemetry snapshot %d: %w", id, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read telemetry: %w", err)
	}
	return out, nil
}

func limitOr(n int) int {
	if n <= 0 {
		return watchdog.DefaultLimit
	}
	return n
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
