#!/usr/bin/env bash
# Benchmarks of the agent daemons (see bench/agents-sim/README.md):
#   enroll     enrollments per second over TLS on the 1515 role
#   keepalive  AGENTS simulated agents on the 1514 role with a NOTIFY keepalive:
#              manager CPU and RSS, keepalive-to-ACK latency, agents active
# It builds muster, starts `muster server` with a temp data dir on free
# loopback ports, drives it with `muster agent-sim`, prints a summary and
# stops everything it started.
#
# Usage: bench/agents-sim/run.sh [enroll|keepalive|all]     (default: all)
#
# Environment (all optional):
#   ENROLL_AGENTS=20000  enrollments of the enroll run
#   CONCURRENCY=64       enrollments in flight
#   AGENTS=19000         agents of the keepalive run (see FD_LIMIT)
#   PROTOCOL=tcp         tcp or udp for the keepalive run
#   NOTIFY=20s           keepalive period
#   RAMP=40s             the agents' first connections are spread over RAMP
#   DURATION=60s         measured window, after RAMP and one NOTIFY of settling
#   SIMS=auto            agent-sim processes (auto: enough for the fd limit)
#   GOMEMLIMIT=          passed to the manager when set (e.g. 400MiB)
#   PROFILE=0            1: run muster as bench/profserver, save CPU and heap profiles
#   KEEP=0               1: keep the work directory (logs, keys, profiles)
set -euo pipefail

MODE=${1:-all}
ENROLL_AGENTS=${ENROLL_AGENTS:-20000}
CONCURRENCY=${CONCURRENCY:-64}
AGENTS=${AGENTS:-19000}
PROTOCOL=${PROTOCOL:-tcp}
NOTIFY=${NOTIFY:-20s}
RAMP=${RAMP:-40s}
DURATION=${DURATION:-60s}
SIMS=${SIMS:-auto}
PROFILE=${PROFILE:-0}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/muster-agents-bench.XXXXXX)
PIDS=()
SERVER_PID=""

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [[ $KEEP == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
die() { echo "run.sh: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
secs() { case $1 in *m) echo $(( ${1%m} * 60 )) ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac; }

# Each process may hold at most the hard descriptor limit of sockets.
ulimit -n "$(ulimit -Hn)"
FD_LIMIT=$(ulimit -n)
if [[ $PROTOCOL == tcp ]] && (( AGENTS > FD_LIMIT - 200 )); then
	die "AGENTS=$AGENTS TCP connections need more descriptors than the manager may open ($FD_LIMIT); raise the hard limit (ulimit -Hn) or lower AGENTS"
fi
if [[ $SIMS == auto ]]; then SIMS=$(( (AGENTS + FD_LIMIT - 500) / (FD_LIMIT - 400) )); fi

log "building muster"
cd "$ROOT"
go build -o "$WORK/agent-sim" ./cmd/muster
if [[ $PROFILE == 1 ]]; then go build -o "$WORK/muster" ./bench/profserver; else go build -o "$WORK/muster" ./cmd/muster; fi

# proc_ticks PID: user+system CPU ticks of a process.
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
machine_busy() { # busy % of all CPUs over the interval given as two /proc/stat samples
	local a=($1) b=($2) idle total=0 i
	idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
	for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
	echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
HZ=$(getconf CLK_TCK)

start_server() {
	local proto=$1
	if [[ ${2:-} != keep ]]; then rm -rf "$WORK/data"; fi
	: >"$WORK/server.log"
	cat >"$WORK/config.yaml" <<EOF
api:
  host: 127.0.0.1
  port: 0
  access: {max_request_per_minute: 0, max_login_attempts: 1000000}
remote:
  local_ip: 127.0.0.1
  port: 0
  protocol: $proto
  max_connections: $(( AGENTS + 100 ))  # above the default share of FD_LIMIT: the bench is the only client
auth:
  port: 0
EOF
	local args=(server --config "$WORK/config.yaml" --data-dir "$WORK/data")
	if [[ $PROFILE == 1 ]]; then # bench/profserver: the same manager with /debug/pprof
		args=(-config "$WORK/config.yaml" -data-dir "$WORK/data" -pprof 127.0.0.1:16061)
	fi
	GOMEMLIMIT=${GOMEMLIMIT:-} "$WORK/muster" "${args[@]}" >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	local i
	for i in $(seq 1 400); do
		if grep -q 'enrollment daemon listening' "$WORK/server.log" && grep -q 'API listening' "$WORK/server.log"; then break; fi
		kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "muster exited"; }
		sleep 0.05
	done
	AUTH_PORT=$(grep -o 'enrollment daemon listening" addr=127.0.0.1:[0-9]*' "$WORK/server.log" | grep -o '[0-9]*$')
	REMOTE_PORT=$(grep -o "secure channel listening\" protocol=$proto addr=127.0.0.1:[0-9]*" "$WORK/server.log" | grep -o '[0-9]*$')
	API_URL=$(grep -o 'https://127\.0\.0\.1:[0-9]*' "$WORK/server.log" | head -1)
	[[ -n $AUTH_PORT && -n $REMOTE_PORT && -n $API_URL ]] || { cat "$WORK/server.log" >&2; die "no listening addresses in the log"; }
}

stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
}

sim() { "$WORK/agent-sim" agent-sim --manager 127.0.0.1 --port "$REMOTE_PORT" --enroll-port "$AUTH_PORT" "$@"; }

run_enroll() {
	log "enroll: $ENROLL_AGENTS agents, $CONCURRENCY in flight"
	start_server tcp
	local t0 s0 m0 m1 out
	t0=$(proc_ticks "$SERVER_PID"); m0=$(grep '^cpu ' /proc/stat)
	out=$(sim --agents "$ENROLL_AGENTS" --enroll-only --enroll-concurrency "$CONCURRENCY" --name-prefix enr- 2>&1 | tail -1)
	m1=$(grep '^cpu ' /proc/stat)
	s0=$(proc_ticks "$SERVER_PID")
	echo "$out" >&2
	ENROLL_RATE=$(grep -o '([0-9]*/s)' <<<"$out" | tr -dc 0-9)
	ENROLL_SECS=$(grep -o 'in [0-9.]*s' <<<"$out" | tr -dc 0-9.)
	ENROLL_SRV_CPU=$(awk -v t="$(( s0 - t0 ))" -v hz="$HZ" -v n="$ENROLL_AGENTS" 'BEGIN {printf "%.0f", 1e6 * t / hz / n}')
	ENROLL_BUSY=$(machine_busy "$m0" "$m1")
	ENROLL_FAILS=$(grep -o '[0-9]* failed' <<<"$out" | tr -dc 0-9)
	stop_server
}

run_keepalive() {
	log "keepalive: $AGENTS agents over $PROTOCOL, keepalive $NOTIFY, $SIMS simulator process(es)"
	start_server "$PROTOCOL"
	sim --agents "$AGENTS" --enroll-only --enroll-concurrency "$CONCURRENCY" --keys "$WORK/all.keys" --name-prefix ka- 2>&1 | tail -1 >&2
	# Measure a manager in its steady state, not one that just handled the
	# enrollment flood: restart it on the same data directory.
	stop_server
	start_server "$PROTOCOL" keep
	split -n "l/$SIMS" -d "$WORK/all.keys" "$WORK/part."
	local i=0 f n
	for f in "$WORK"/part.*; do
		n=$(wc -l <"$f")
		# One loopback source address per process keeps each under the ~28,000
		# ephemeral ports of one address.
		# The binary itself in the background (not the sim function, whose
		# subshell would get the signal instead of the simulator).
		"$WORK/agent-sim" agent-sim --manager 127.0.0.1 --port "$REMOTE_PORT" --enroll-port "$AUTH_PORT" \
			--agents "$n" --keys "$f" --protocol "$PROTOCOL" --notify-time "$NOTIFY" --ramp "$RAMP" \
			--source-ips "127.0.1.$(( i + 1 ))" --report-every "$NOTIFY" >"$WORK/sim.$i.log" 2>&1 &
		PIDS+=("$!")
		i=$(( i + 1 ))
	done
	local settle=$(( $(secs "$RAMP") + $(secs "$NOTIFY") + 5 ))
	log "waiting ${settle}s for every agent to connect and settle"
	sleep "$settle"
	local marks t0 t1 m0 m1 rss maxrss=0 dur
	dur=$(secs "$DURATION")
	marks=$(cat "$WORK"/sim.*.log | wc -l)
	t0=$(proc_ticks "$SERVER_PID"); m0=$(grep '^cpu ' /proc/stat)
	for (( i = 0; i < dur; i += 5 )); do
		sleep 5
		rss=$(rss_mb "$SERVER_PID"); (( rss > maxrss )) && maxrss=$rss
	done
	t1=$(proc_ticks "$SERVER_PID"); m1=$(grep '^cpu ' /proc/stat)
	KA_CPU=$(awk -v t="$(( t1 - t0 ))" -v hz="$HZ" -v d="$dur" 'BEGIN {printf "%.1f", 100 * t / hz / d}')
	KA_RSS=$maxrss
	KA_BUSY=$(machine_busy "$m0" "$m1")
	# Latency: the windows every simulator reported during the measurement.
	local lines
	lines=$(for f in "$WORK"/sim.*.log; do tail -n +"$(( $(wc -l <"$f") - dur / $(secs "$NOTIFY") + 1 ))" "$f"; done | grep running || true)
	KA_P50=$(grep -o 'ack_p50=[^ ]*' <<<"$lines" | cut -d= -f2 | sort -h | tail -1 || true)
	KA_P99=$(grep -o 'ack_p99=[^ ]*' <<<"$lines" | cut -d= -f2 | sort -h | tail -1 || true)
	KA_CONNECTED=$(for f in "$WORK"/sim.*.log; do grep -o 'connected=[0-9]*' "$f" | tail -1 | tr -dc 0-9; echo; done | awk '{s += $1} END {print s}')
	# Connections lost over the whole run (errors) and reconnections asked by the manager.
	KA_ERRORS=$(for f in "$WORK"/sim.*.log; do grep -o ' errors=[0-9]*' "$f" | tail -1 | tr -dc 0-9; echo; done | awk '{s += $1} END {print s}')
	KA_RECONNECTS=$(for f in "$WORK"/sim.*.log; do grep -o 'reconnects=[0-9]*' "$f" | tail -1 | tr -dc 0-9; echo; done | awk '{s += $1} END {print s}')
	# The manager's own view: its once-a-minute stats line (keepalive read to ACK written).
	local stats
	stats=$(grep 'remoted: stats' "$WORK/server.log" | tail -1 || true)
	KA_SRV_P99=$(grep -o 'ack_p99=[^ ]*' <<<"$stats" | cut -d= -f2 || true)
	KA_SRV_P50=$(grep -o 'ack_p50=[^ ]*' <<<"$stats" | cut -d= -f2 || true)
	local token
	token=$(curl -sk -u wazuh:wazuh -X POST "$API_URL/security/user/authenticate?raw=true")
	KA_ACTIVE=$(curl -sk -H "Authorization: Bearer $token" "$API_URL/agents/summary/status" | grep -o '"active": *[0-9]*' | head -1 | tr -dc 0-9)
	if [[ $PROFILE == 1 ]]; then
		curl -s -o "$WORK/keepalive.cpu.prof" "http://127.0.0.1:16061/debug/pprof/profile?seconds=20" || log "no CPU profile"
		curl -s -o "$WORK/keepalive.heap.prof" "http://127.0.0.1:16061/debug/pprof/heap" || log "no heap profile"
		log "profiles: $WORK/keepalive.{cpu,heap}.prof (go tool pprof $WORK/muster FILE)"
		KEEP=1
	fi
	for pid in "${PIDS[@]}"; do [[ $pid == "$SERVER_PID" ]] || kill -TERM "$pid" 2>/dev/null || true; done
	stop_server
}

case $MODE in
enroll) run_enroll ;;
keepalive) run_keepalive ;;
all) run_enroll; run_keepalive ;;
*) die "unknown mode $MODE (enroll, keepalive or all)" ;;
esac

echo
echo "| run | figure | target |"
echo "|---|---|---|"
if [[ -n ${ENROLL_RATE:-} ]]; then
	echo "| enroll: $ENROLL_AGENTS over TLS, $CONCURRENCY in flight | ${ENROLL_RATE}/s (${ENROLL_SECS}s, $ENROLL_FAILS failed; manager ${ENROLL_SRV_CPU} µs CPU per enrollment; machine ${ENROLL_BUSY}% busy) | >= 3000/s |"
fi
if [[ -n ${KA_CPU:-} ]]; then
	echo "| keepalive: $AGENTS agents, $PROTOCOL, every $NOTIFY | manager CPU ${KA_CPU}% of one core, RSS max ${KA_RSS} MB (machine ${KA_BUSY}% busy) | < 25%, < 512 MB at 50,000 |"
	echo "| keepalive-to-ACK | agents: p50 ${KA_P50:-?} p99 ${KA_P99:-?} (worst window of any simulator); manager: p50 ${KA_SRV_P50:-?} p99 ${KA_SRV_P99:-?} (last minute) | p99 < 5 ms |"
	echo "| agents | connected ${KA_CONNECTED:-?}, active in GET /agents/summary/status ${KA_ACTIVE:-?} of $AGENTS; simulator errors ${KA_ERRORS:-?}, reconnects ${KA_RECONNECTS:-?} | all active, no errors |"
fi
