package store

import (
	"context"
	"database/sql"
	"fmt"
)

// applicationID marks a SQLite file as Grace's ("GRAC" in ASCII). It lives in
// the database header (PRAGMA application_id), so `file` and the sqlite3 tool
// can tell a Grace database from any other.
const applicationID = 0x47524143

// migrations are the schema versions in order; migration i brings the
// database from user_version i to i+1. Each runs in its own transaction
// together with the user_version bump, so a crash leaves a whole version.
// Never edit a released migration: append a new one.
var migrations = []string{
	// 1: intents, the 5W1H record (narratives, clarity, audit), full-text.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value
);
INSERT INTO meta(key, value) VALUES ('application', 'grace'), ('fts_hwm', 0);

CREATE TABLE intents (
	id              TEXT PRIMARY KEY,
	type            TEXT NOT NULL,
	actor           TEXT NOT NULL,
	payload         TEXT,           -- JSON object, verbatim
	context         TEXT,           -- JSON object
	priority        INTEGER NOT NULL,
	idempotency_key TEXT UNIQUE,    -- NULL when the submission had none
	state           TEXT NOT NULL,
	tier            INTEGER NOT NULL,
	decision        TEXT NOT NULL,  -- JSON intent.Decision
	attempts        INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	worker          TEXT NOT NULL,
	created_at      INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	updated_at      INTEGER,
	not_before      INTEGER,
	deadline        INTEGER,
	decided_by      TEXT NOT NULL,
	decision_reason TEXT NOT NULL,
	reviewed        INTEGER NOT NULL
);
CREATE INDEX intents_state_created ON intents(state, created_at);
CREATE INDEX intents_created ON intents(created_at);
CREATE INDEX intents_actor_created ON intents(actor, created_at);

CREATE TABLE narratives (
	id        INTEGER PRIMARY KEY,
	ts        INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	who       TEXT NOT NULL,
	what      TEXT NOT NULL,
	"where"   TEXT NOT NULL,
	why       TEXT NOT NULL,    -- JSON array of strings
	how       TEXT NOT NULL,
	context   TEXT NOT NULL,    -- JSON object
	intent_id TEXT NOT NULL,    -- '' when the record concerns no one intent
	result    TEXT NOT NULL
);
CREATE INDEX narratives_who ON narratives(who, id);
CREATE INDEX narratives_what ON narratives(what, id);
CREATE INDEX narratives_ts ON narratives(ts);
CREATE INDEX narratives_intent ON narratives(intent_id, id);

CREATE TABLE clarity (
	narrative_id INTEGER PRIMARY KEY REFERENCES narratives(id) DEFERRABLE INITIALLY DEFERRED,
	audit_seq    INTEGER NOT NULL,
	confidence   REAL NOT NULL,
	risk         REAL NOT NULL,
	transparency TEXT NOT NULL,
	reasoning    TEXT NOT NULL  -- JSON array: the reasoning chain (why)
);

CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY,
	entry     TEXT NOT NULL,  -- canonical entry text, hashed verbatim
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL   -- hex(sha256(prev_hash || entry))
);

CREATE VIRTUAL TABLE narratives_fts USING fts5(
	who, what, "where", why, how,
	content='narratives', content_rowid='id', columnsize=0
);
`,
	// 2: the time span of each block of 4096 narrative ids, so that a search
	// bounded in time knows which ids it need not read.
	`
CREATE TABLE narrative_blocks (
	block  INTEGER PRIMARY KEY, -- narrative id >> 12
	min_ts INTEGER NOT NULL,
	max_ts INTEGER NOT NULL
);
INSERT INTO narrative_blocks(block, min_ts, max_ts)
	SELECT id >> 12, min(ts), max(ts) FROM narratives GROUP BY id >> 12;
`,
	// 3: the watchdog's telemetry snapshots and alerts (see telemetry.go).
	// IF NOT EXISTS: a database whose user_version was set back (as the
	// version-1 test does) still has them.
	`
CREATE TABLE IF NOT EXISTS telemetry (
	id       INTEGER PRIMARY KEY,
	ts       INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	status   TEXT NOT NULL,    -- ok, warn or critical
	ready    INTEGER NOT NULL,
	snapshot TEXT NOT NULL     -- JSON watchdog.Telemetry, the seed's shape
);
CREATE INDEX IF NOT EXISTS telemetry_ts ON telemetry(ts);

CREATE TABLE IF NOT EXISTS alerts (
	id          TEXT PRIMARY KEY,
	key         TEXT NOT NULL,   -- component/condition
	component   TEXT NOT NULL,
	condition   TEXT NOT NULL,
	severity    TEXT NOT NULL,
	peak        TEXT NOT NULL,
	summary     TEXT NOT NULL,
	first_seen  INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	last_seen   INTEGER NOT NULL,
	count       INTEGER NOT NULL,
	resolved_at INTEGER,          -- NULL while firing
	resolution  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts(last_seen);
CREATE INDEX IF NOT EXISTS alerts_firing ON alerts(last_seen) WHERE resolved_at IS NULL;
`,
	// 4: chaos runs, the scenarios' standing, the loop's findings and
	// knowledge (see chaos.go). IF NOT EXISTS as in 3.
	`
CREATE TABLE IF NOT EXISTS chaos_runs (
	id          TEXT PRIMARY KEY,
	state       TEXT NOT NULL,    -- running, passed, failed, halted or error
	started_at  INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	finished_at INTEGER,          -- NULL while running
	run         TEXT NOT NULL     -- JSON engine.ChaosRun with its results
);
CREATE INDEX IF NOT EXISTS chaos_runs_started ON chaos_runs(started_at);
CREATE INDEX IF NOT EXISTS chaos_runs_state ON chaos_runs(state);

CREATE TABLE IF NOT EXISTS chaos_scenarios (
	scenario     TEXT PRIMARY KEY,
	difficulty   INTEGER NOT NULL,
	streak       INTEGER NOT NULL,
	last_verdict TEXT NOT NULL,
	last_run_at  INTEGER NOT NULL, -- Unix milliseconds, 0 when never run
	runs         INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS chaos_findings (
	id         TEXT PRIMARY KEY,
	created_at INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	finding    TEXT NOT NULL     -- JSON engine.ChaosFinding
);
CREATE INDEX IF NOT EXISTS chaos_findings_created ON chaos_findings(created_at);

CREATE TABLE IF NOT EXISTS chaos_knowledge (
	id          INTEGER PRIMARY KEY,
	verified_at INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	knowledge   TEXT NOT NULL     -- JSON engine.ChaosKnowledge
);
`,
	// 5: idempotency keys scoped to their actor (actor, char 31, key), so
	// that two agents' keys never collide.
	`
UPDATE intents SET idempotency_key = actor || char(31) || idempotency_key
	WHERE idempotency_key IS NOT NULL AND instr(idempotency_key, char(31)) = 0;
`,
	// 6: the full-text index moves to a file of its own (index.go), so
	// that indexing never holds the writer; instance names this record
	// for that file, which is rebuilt when it indexes another.
	`
DROP TABLE IF EXISTS narratives_fts;
DELETE FROM meta WHERE key = 'fts_hwm';
INSERT OR IGNORE INTO meta(key, value) VALUES ('instance', lower(hex(randomblob(16))));
`,
	// 7: no query reads narratives by ts (time bounds go through
	// narrative_blocks, and search writes +n.ts to walk ids), so the index
	// on it only cost every record one more B-tree write.
	`
DROP INDEX IF EXISTS narratives_ts;
`,
	// 8: where the audit chain starts once old entries are pruned
	// (retention.go): the last pruned entry's seq, its hash (the prev_hash
	// of the first kept entry) and its narrative's id. No row: nothing was
	// ever pruned, the chain starts at entry 1.
	`
CREATE TABLE IF NOT EXISTS audit_anchor (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	seq          INTEGER NOT NULL,
	hash         TEXT NOT NULL,
	narrative_id INTEGER NOT NULL
);
`,
	// 9: alert silences (see silences.go), one row each, replaced as it
	// ends. IF NOT EXISTS as in 3.
	`
CREATE TABLE IF NOT EXISTS silences (
	id         TEXT PRIMARY KEY,
	match      TEXT NOT NULL,    -- an alert key, component/*, */condition or *
	reason     TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	ends_at    INTEGER NOT NULL,
	state      TEXT NOT NULL,    -- active, expired or ended
	ended_at   INTEGER,          -- NULL while active
	ended_by   TEXT NOT NULL,
	end_reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS silences_created ON silences(created_at);
CREATE INDEX IF NOT EXISTS silences_active ON silences(created_at) WHERE ended_at IS NULL;
`,
	// 10: the approval requests each webhook acknowledged (answered 2xx),
	// so that a restart announces again only what a webhook has not (see
	// approval_acks.go). A row lives while its intent is pending approval:
	// the triggers delete it as the intent leaves that state or goes.
	// IF NOT EXISTS as in 3.
	`
CREATE TABLE IF NOT EXISTS approval_acks (
	webhook   TEXT NOT NULL,    -- the webhook's name, in lower case
	intent_id TEXT NOT NULL,
	acked_at  INTEGER NOT NULL, -- Unix nanoseconds (UTC)
	PRIMARY KEY (webhook, intent_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS approval_acks_intent ON approval_acks(intent_id);
CREATE TRIGGER IF NOT EXISTS approval_acks_decided AFTER UPDATE OF state ON intents
	WHEN OLD.state = 'pending_approval' AND NEW.state <> 'pending_approval'
	BEGIN DELETE FROM approval_acks WHERE intent_id = OLD.id; END;
CREATE TRIGGER IF NOT EXISTS approval_acks_deleted AFTER DELETE ON intents
	WHEN OLD.state = 'pending_approval'
	BEGIN DELETE FROM approval_acks WHERE intent_id = OLD.id; END;
`,
}

// blockShift sizes the narrative_blocks: ids id>>blockShift share a block.
const blockShift = 12

// schemaVersion is the version this build writes and reads.
var schemaVersion = len(migrations)

// migrate brings the database to schemaVersion, one transaction per
// migration. The version is checked again under the write lock, so two
// processes opening a new database at once do not both create it.
func migrate(ctx context.Context, db *sql.DB) error {
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var v int
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, err
	}
	if v >= schemaVersion {
		_, err = conn.ExecContext(ctx, "COMMIT")
		return true, err
	}
	if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	bump := fmt.Sprintf("PRAGMA user_version = %d; PRAGMA application_id = %d", v+1, applicationID)
	if _, err := conn.ExecContext(ctx, bump); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return false, err
}
