package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"grace/engine"
	"grace/engine/chaos"
)

// The store keeps the chaos service's runs, the scenarios' standing and
// the autonomous loop's findings and knowledge (schema migration 4). Runs,
// findings and knowledge are JSON in the engine's shape with the columns
// they are looked up and ordered by beside it. It implements
// chaos.RunStore.
var _ chaos.RunStore = (*Store)(nil)

// defaultChaosRuns is what a limit of 0 means for ChaosRuns.
const defaultChaosRuns = 50

// SaveChaosRun inserts or replaces run (by RunID) on the writer. Its live
// progress is not stored (a stored run is read back without it). It fails
// with ErrReadOnly on a read-only store.
func (s *Store) SaveChaosRun(ctx context.Context, run engine.ChaosRun) error {
	if run.RunID == "" {
		return errors.New("save chaos run: empty run ID")
	}
	run.Progress = nil
	b, err := json.Marshal(run)
	if err != nil {
		return fmt.Errorf("save chaos run %s: encode: %w", run.RunID, err)
	}
	err = s.do(ctx, func(w *writer) error {
		_, err := w.conn.execOnce(`INSERT OR REPLACE INTO chaos_runs(id, state, started_at, finished_at, run) VALUES (?,?,?,?,?)`,
			run.RunID, run.State, run.StartedAt.UnixNano(), nanos(run.FinishedAt), string(b))
		return err
	})
	if err != nil {
		return fmt.Errorf("save chaos run %s to %s: %w", run.RunID, s.path, err)
	}
	return nil
}

// ChaosRun returns one stored run, engine.ErrChaosRunNotFound if none.
func (s *Store) ChaosRun(ctx context.Context, id string) (engine.ChaosRun, error) {
	if err := s.readable(); err != nil {
		return engine.ChaosRun{}, err
	}
	var raw string
	err := s.rdb.QueryRowContext(ctx, `SELECT run FROM chaos_runs WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.ChaosRun{}, fmt.Errorf("chaos run %s: %w", id, engine.ErrChaosRunNotFound)
	}
	if err != nil {
		return engine.ChaosRun{}, fmt.Errorf("read chaos run %s: %w", id, err)
	}
	var run engine.ChaosRun
	if err := json.Unmarshal([]byte(raw), &run); err != nil {
		return engine.ChaosRun{}, fmt.Errorf("read chaos run %s: decode: %w", id, err)
	}
	return run, nil
}

// ChaosRuns returns stored runs, newest first (by start), at most limit
// (0 means 50).
func (s *Store) ChaosRuns(ctx context.Context, limit int) ([]engine.ChaosRun, error) {
	if limit <= 0 {
		limit = defaultChaosRuns
	}
	out := []engine.ChaosRun{}
	err := s.eachJSON(ctx, "chaos runs", `SELECT id, run FROM chaos_runs ORDER BY started_at DESC, id DESC LIMIT ?`,
		[]any{int64(limit)}, func(id string, raw []byte) error {
			var run engine.ChaosRun
			if err := json.Unmarshal(raw, &run); err != nil {
				return fmt.Errorf("chaos run %s: decode: %w", id, err)
			}
			out = append(out, run)
			return nil
		})
	return out, err
}

// ScenarioStates returns every scenario's standing by ID.
func (s *Store) ScenarioStates(ctx context.Context) (map[string]chaos.ScenarioState, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT scenario, difficulty, streak, last_verdict, last_run_at, runs FROM chaos_scenarios`)
	if err != nil {
		return nil, fmt.Errorf("read chaos scenario states: %w", err)
	}
	defer rows.Close()
	out := map[string]chaos.ScenarioState{}
	for rows.Next() {
		var st chaos.ScenarioState
		var d, streak, runs int64
		if err := rows.Scan(&st.Scenario, &d, &streak, &st.LastVerdict, &st.LastRunAt, &runs); err != nil {
			return nil, fmt.Errorf("read chaos scenario states: %w", err)
		}
		st.Difficulty, st.Streak, st.Runs = int(d), int(streak), int(runs)
		out[st.Scenario] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read chaos scenario states: %w", err)
	}
	return out, nil
}

// SaveScenarioState inserts or replaces one scenario's standing.
func (s *Store) SaveScenarioState(ctx context.Context, st chaos.ScenarioState) error {
	if st.Scenario == "" {
		return errors.New("save chaos scenario state: empty scenario ID")
	}
	err := s.do(ctx, func(w *writer) error {
		_, err := w.conn.execOnce(`INSERT OR REPLACE INTO chaos_scenarios(scenario, difficulty, streak, last_verdict, last_run_at, runs) VALUES (?,?,?,?,?,?)`,
			st.Scenario, int64(st.Difficulty), int64(st.Streak), st.LastVerdict, st.LastRunAt, int64(st.Runs))
		return err
	})
	if err != nil {
		return fmt.Errorf("save chaos scenario state %s to %s: %w", st.Scenario, s.path, err)
	}
	return nil
}

// SaveFinding inserts or replaces a finding (by ID).
func (s *Store) SaveFinding(ctx context.Context, f engine.ChaosFinding) error {
	if f.ID == "" {
		return errors.New("save chaos finding: empty ID")
	}
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("save chaos finding %s: encode: %w", f.ID, err)
	}
	err = s.do(ctx, func(w *writer) error {
		_, err := w.conn.execOnce(`INSERT OR REPLACE INTO chaos_findings(id, created_at, finding) VALUES (?,?,?)`,
			f.ID, f.CreatedAt.UnixNano(), string(b))
		return err
	})
	if err != nil {
		return fmt.Errorf("save chaos finding %s to %s: %w", f.ID, s.path, err)
	}
	return nil
}

// Findings returns every finding, newest first.
func (s *Store) Findings(ctx context.Context) ([]engine.ChaosFinding, error) {
	out := []engine.ChaosFinding{}
	err := s.eachJSON(ctx, "chaos findings", `SELECT id, finding FROM chaos_findings ORDER BY created_at DESC, id DESC`, nil,
		func(id string, raw []byte) error {
			var f engine.ChaosFinding
			if err := json.Unmarshal(raw, &f); err != nil {
				return fmt.Errorf("chaos finding %s: decode: %w", id, err)
			}
			out = append(out, f)
			return nil
		})
	return out, err
}

// SaveKnowledge adds a verified fix.
func (s *Store) SaveKnowledge(ctx context.Context, k engine.ChaosKnowledge) error {
	b, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("save chaos knowledge for finding %s: encode: %w", k.FindingID, err)
	}
	err = s.do(ctx, func(w *writer) error {
		_, err := w.conn.execOnce(`INSERT INTO chaos_knowledge(verified_at, knowledge) VALUES (?,?)`, k.VerifiedAt.UnixNano(), string(b))
		return err
	})
	if err != nil {
		return fmt.Errorf("save chaos knowledge for finding %s to %s: %w", k.FindingID, s.path, err)
	}
	return nil
}

// Knowledge returns the verified fixes, newest first.
func (s *Store) Knowledge(ctx context.Context) ([]engine.ChaosKnowledge, error) {
	out := []engine.ChaosKnowledge{}
	err := s.eachJSON(ctx, "chaos knowledge", `SELECT CAST(id AS TEXT), knowledge FROM chaos_knowledge ORDER BY verified_at DESC, id DESC`, nil,
		func(id string, raw []byte) error {
			var k engine.ChaosKnowledge
			if err := json.Unmarshal(raw, &k); err != nil {
				return fmt.Errorf("chaos knowledge %s: decode: %w", id, err)
			}
			out = append(out, k)
			return nil
		})
	return out, err
}

// eachJSON runs query (selecting an ID and a JSON column) on the readers
// and calls fn with each row.
func (s *Store) eachJSON(ctx context.Context, what, query string, args []any, fn func(id string, raw []byte) error) error {
	if err := s.readable(); err != nil {
		return err
	}
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, raw string
		if err := rows.Scan(&id, &raw); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		if err := fn(id, []byte(raw)); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
