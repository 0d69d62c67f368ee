// Package store is Grace's SQLite database (modernc.org/sqlite, cgo-free):
// intents, the 5W1H record, its tamper-evident audit chain and a full-text
// index over the narratives. It implements the engine's intent.Store,
// clarity.Journal and clarity.Searcher.
//
// # Writing
//
// One writer goroutine owns the only write connection and commits in
// groups: Apply and ApplyAsync queue changes, and the writer takes up to
// Options.BatchMax of them into one transaction, commits it (synchronous=FULL
// by default, so acknowledged means on disk) and then answers every
// submitter. A batch takes the changes a caller waits on (Apply) first, up
// to a third of it, then those nobody waits on (ApplyAsync, in their
// order): 256, and two more for each change waited on. A submission is
// thus never held behind a backlog of the workers' updates, and the
// updates keep pace with the submissions; each kind keeps its own order. Each clarity.Record becomes, in that same transaction, a
// narrative row, a clarity row and an audit entry ("triple logging").
// Readers use a separate pool of read-only connections (WAL mode), so they
// never wait for the writer.
//
// # The audit chain
//
// Entry N's canonical text is stored verbatim in audit.entry and chained:
//
//	hash = hex(sha256(prev_hash || entry))
//
// where prev_hash is entry N-1's hash (64 ASCII '0's for entry 1) and || is
// plain concatenation. The entry is compact JSON on one line, its keys in
// this order (see AUDIT.md for an example):
//
//	{"seq":N,"ts":"<RFC 3339 UTC, ns>","actor":"<who>","action":"<what>",
//	 "resource":"<where>","result":"<result>","intent_id":"<id or empty>",
//	 "narrative_id":N,"digest":"<hex sha256>"}
//
// The digest binds the entry to its narrative and clarity rows: it is
// hex(sha256(D)), D being the compact JSON array [ts, who, what, where, why,
// how, context, intent_id, result, confidence, risk, transparency,
// reasoning] of the rows' columns (ts an integer of Unix nanoseconds,
// confidence and risk in Go's shortest float form, the rest JSON strings of
// the stored text). The head is signed every Options.CheckpointInterval and
// on Close into <datadir>/audit.checkpoints with the ed25519 key
// <datadir>/audit.key (public key: audit.pub), so truncating the chain is
// caught as well as editing it. VerifyAudit checks all of it. An auditor
// without Grace can check the chain and the newest checkpoint with this
// bash script (also in AUDIT.md), given the database path as $1:
//
//	set -euo pipefail
//	db=$1
//	dir=$(dirname "$db")
//	aseq=0
//	prev=0000000000000000000000000000000000000000000000000000000000000000
//	if [ "$(sqlite3 -readonly -batch -noheader "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'audit_anchor'")" = 1 ]; then
//	  anchor=$(sqlite3 -readonly -batch -noheader -list -separator '|' "$db" 'SELECT seq, hash FROM audit_anchor')
//	  if [ -n "$anchor" ]; then aseq=${anchor%%|*}; prev=${anchor#*|}; fi
//	fi
//	ahash=$prev
//	named=0
//	next=$((aseq + 1))
//	while IFS='|' read -r seq prev_hash hash entry; do
//	  if [ "$seq" != "$next" ]; then echo "entry $next is missing"; exit 1; fi
//	  if [ "$prev_hash" != "$prev" ]; then echo "entry $seq: prev_hash is not the hash of entry $((seq - 1))"; exit 1; fi
//	  sum=$(printf '%s%s' "$prev" "$entry" | sha256sum | cut -d' ' -f1)
//	  if [ "$sum" != "$hash" ]; then echo "entry $seq: hash does not match its text"; exit 1; fi
//	  case $entry in *",\"actor\":\"retention\",\"action\":\"records_pruned\",\"resource\":\"audit\",\"result\":\"anchor $aseq $ahash\","*) named=1 ;; esac
//	  prev=$hash
//	  next=$((seq + 1))
//	done < <(sqlite3 -readonly -batch -noheader -list -separator '|' "$db" \
//	  "SELECT seq, prev_hash, hash, entry FROM audit WHERE seq > $aseq ORDER BY seq")
//	if [ "$aseq" != 0 ] && [ "$named" != 1 ]; then
//	  echo "the chain starts after entry $aseq, but no records_pruned entry names that anchor"; exit 1
//	fi
//	echo "chain intact: $((next - 1 - aseq)) entries, head $prev"
//	if [ "$aseq" != 0 ]; then echo "entries 1 to $aseq were pruned; a records_pruned entry names the anchor"; fi
//	if [ -s "$dir/audit.checkpoints" ]; then
//	  read -r cseq chash ctime csig < <(tail -n 1 "$dir/audit.checkpoints")
//	  if [ "$cseq" -ge "$next" ]; then echo "entries $next to $cseq are missing (checkpoint signed entry $cseq)"; exit 1; fi
//	  have=$ahash
//	  if [ "$cseq" -gt "$aseq" ]; then have=$(sqlite3 -readonly -batch -noheader "$db" "SELECT hash FROM audit WHERE seq = $cseq"); fi
//	  if [ "$cseq" -ge "$aseq" ] && [ "$have" != "$chash" ]; then echo "entry $cseq: hash differs from the signed checkpoint"; exit 1; fi
//	  if command -v openssl >/dev/null; then
//	    tmp=$(mktemp -d)
//	    printf '%s %s %s' "$cseq" "$chash" "$ctime" >"$tmp/msg"
//	    printf '%s' "$csig" | base64 -d >"$tmp/sig"
//	    if ! openssl pkeyutl -verify -pubin -inkey "$dir/audit.pub" -rawin -in "$tmp/msg" -sigfile "$tmp/sig" >/dev/null; then
//	      echo "checkpoint of entry $cseq: bad signature"; rm -r "$tmp"; exit 1
//	    fi
//	    rm -r "$tmp"
//	  fi
//	  if [ "$cseq" -ge "$aseq" ]; then echo "newest checkpoint (entry $cseq) matches"; else echo "newest checkpoint (entry $cseq) signs a pruned entry: signature checked only"; fi
//	fi
//
// # Searching
//
// The FTS5 index lives in a file of its own beside the record (grace.db →
// grace.search.db), kept by its own connection and goroutine, so that
// catching up never holds the group-commit writer. It trails the commits
// and catches up in bulk every Options.IndexInterval (resting between
// steps while intake is busy); Search scans the rows past the index
// directly, so a record is findable as soon as it is committed. The index
// is derived data: a missing or foreign index file is rebuilt. Results come newest first
// and are never ranked, so a common word costs no more than a rare one.
// Time bounds are turned into id bounds through narrative_blocks, the time
// span of each block of 4096 narrative ids, so a window deep in the past is
// as quick to list as the last minute.
//
// # Safety
//
// Open checks a file before SQLite touches it: something that is not a
// SQLite database, a SQLite database of another program, or a Grace
// database from a newer version is refused and left byte-for-byte as it was.
package store
