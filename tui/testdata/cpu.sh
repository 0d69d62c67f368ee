#!/usr/bin/env bash
# cpu.sh measures the CPU the console uses, idle and under the demo load,
# driving the real binary in tmux and reading utime+stime from
# /proc/<pid>/stat before and after a measuring window.
#
#   tui/testdata/cpu.sh            # from the repository root; builds bin/grace
#   SECONDS_EACH=60 tui/testdata/cpu.sh
#
# Four measurements, each on a fresh temporary database:
#   embedded/idle   grace console, cortex.enabled=false (engine and console in one process)
#   embedded/demo   grace console, cortex.enabled=true  (the demo load generator on)
#   attached/idle   grace console --attach to a grace serve without load: the console process alone
#   attached/demo   grace console --attach to a grace serve with the demo load: the console process alone
# Each waits (with a deadline) for the console to show "● live", then
# measures over SECONDS_EACH seconds (default 20). Output: one line each,
# "mode cpu% = seconds of CPU / seconds of wall time".
set -euo pipefail

SECONDS_EACH=${SECONDS_EACH:-20}
BIN=${BIN:-bin/grace}
if [[ -z "${SKIP_BUILD:-}" ]]; then make build >/dev/null; fi
command -v tmux >/dev/null || { echo "cpu.sh: tmux is needed" >&2; exit 1; }
TICK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
SESSIONS=()
SERVE_PID=""
cleanup() {
	for s in "${SESSIONS[@]}"; do tmux kill-session -t "$s" 2>/dev/null || true; done
	if [[ -n "$SERVE_PID" ]]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

# ticks PID: utime+stime of PID, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# wait_for SESSION TEXT: wait up to 30 s for the pane to show TEXT.
wait_for() {
	for _ in $(seq 300); do
		if tmux capture-pane -p -t "$1" 2>/dev/null | grep -qF "$2"; then return 0; fi
		sleep 0.1
	done
	echo "cpu.sh: $1 never showed \"$2\":" >&2
	tmux capture-pane -p -t "$1" >&2 || true
	return 1
}

# measure NAME COMMAND...: run COMMAND in a 160x48 tmux pane, wait for the
# console to be live, and report the CPU it used over SECONDS_EACH.
measure() {
	local name=$1; shift
	local s="grace-cpu-$$-${name//\//-}"
	SESSIONS+=("$s")
	tmux new-session -d -s "$s" -x 160 -y 48 "exec $*"
	local pid
	pid=$(tmux list-panes -t "$s" -F '#{pane_pid}')
	wait_for "$s" "● live"
	local t0 w0 t1 w1
	t0=$(ticks "$pid"); w0=$(date +%s.%N)
	sleep "$SECONDS_EACH"
	t1=$(ticks "$pid"); w1=$(date +%s.%N)
	awk -v n="$name" -v dt="$((t1 - t0))" -v tk="$TICK" -v w0="$w0" -v w1="$w1" \
		'BEGIN { c = dt / tk; w = w1 - w0; printf "%-14s %6.2f%% = %.2fs of CPU / %.1fs\n", n, 100 * c / w, c, w }'
	tmux send-keys -t "$s" q
	for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
	tmux kill-session -t "$s" 2>/dev/null || true
}

for load in idle demo; do
	cortex=false; [[ $load == demo ]] && cortex=true
	mkdir -p "$WORK/embedded-$load"
	measure "embedded/$load" env GRACE_CORTEX_ENABLED=$cortex GRACE_API_LISTEN= \
		"$PWD/$BIN" console --db "$WORK/embedded-$load/grace.db"
done

for load in idle demo; do
	cortex=false; [[ $load == demo ]] && cortex=true
	dir="$WORK/attached-$load"; mkdir -p "$dir"
	port=$(( 20000 + RANDOM % 20000 ))
	GRACE_CORTEX_ENABLED=$cortex GRACE_API_LISTEN=127.0.0.1:$port \
		"$PWD/$BIN" serve --db "$dir/grace.db" >"$dir/serve.out" 2>&1 &
	SERVE_PID=$!
	for _ in $(seq 300); do
		if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
		sleep 0.1
	done
	measure "attached/$load" env GRACE_API_LISTEN=127.0.0.1:$port \
		"$PWD/$BIN" console --db "$dir/grace.db" --attach "http://127.0.0.1:$port"
	kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
done
