#!/usr/bin/env bash
# Agent registry benchmarks (issue 4 targets, see bench/agents/README.md):
# seeds N agents into a temporary data directory (bench/agents/seed), starts
# muster on it, measures idle RSS, runs bench/agents/load (GET /agents pages,
# the full list, the status summary, selective q, POST /agents), measures
# RSS again once idle, prints the figures and stops what it started.
#
# Environment (all optional):
#   N=100000     agents to seed
#   DURATION=10s length of each timed run
#   CONNS=8      concurrent clients of the GET runs
#   ENROLL_CONNS=32 concurrent clients of the POST /agents run
#   KEEP=0       1: keep the work directory
set -euo pipefail

N=${N:-100000}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
ENROLL_CONNS=${ENROLL_CONNS:-32}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/muster-agents-bench.XXXXXX)
MUSTER_PID=""

cleanup() {
	if [[ -n $MUSTER_PID ]]; then
		kill "$MUSTER_PID" 2>/dev/null || true
		wait "$MUSTER_PID" 2>/dev/null || true
	fi
	if [[ $KEEP == 1 ]]; then
		echo "work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

log() { echo "== $*" >&2; }
rss_mb() { echo $(( $(awk '/VmRSS/ {print $2}' "/proc/$1/status") / 1024 )); }

cd "$ROOT"
log "building muster, the seeding command and the load generator"
go build -o "$WORK/muster" ./cmd/muster
go build -o "$WORK/seed" ./bench/agents/seed
go build -o "$WORK/load" ./bench/agents/load

log "seeding $N agents"
"$WORK/seed" -n "$N" -data-dir "$WORK/data"

cat >"$WORK/config.yaml" <<'EOF'
api:
  access:
    max_request_per_minute: 0
    max_login_attempts: 1000000
remote:
  enabled: false
auth:
  disabled: true
EOF
"$WORK/muster" server --data-dir "$WORK/data" --api-port 0 --api-host 127.0.0.1 \
	--config "$WORK/config.yaml" >"$WORK/muster.log" 2>&1 &
MUSTER_PID=$!
URL=""
for _ in $(seq 1 600); do
	URL=$(grep -o 'https://127\.0\.0\.1:[0-9]*' "$WORK/muster.log" 2>/dev/null | head -1 || true)
	[[ -n $URL ]] && break
	sleep 0.1
done
[[ -n $URL ]] || { cat "$WORK/muster.log" >&2; echo "muster did not start" >&2; exit 2; }
sleep 2
RSS_START=$(rss_mb "$MUSTER_PID")

log "load against $URL"
"$WORK/load" -url "$URL" -n "$N" -d "$DURATION" -c "$CONNS" -only list500,q,summary,full | tee "$WORK/reads.txt"
"$WORK/load" -url "$URL" -n "$N" -d "$DURATION" -c 1 -only list500,q,summary | tail -4 | sed 's/^|/| (1 client)/' \
	| tee -a "$WORK/reads.txt"
"$WORK/load" -url "$URL" -n "$N" -d "$DURATION" -c "$ENROLL_CONNS" -only enroll | tail -1 | tee "$WORK/enroll.txt"
sleep 5
RSS_IDLE=$(rss_mb "$MUSTER_PID")
KEYS=$(wc -l <"$WORK/data/etc/client.keys")
AGENTS=$(( N + $(awk -F'|' '{gsub(/ /,"",$3); print $3}' "$WORK/enroll.txt") ))

echo
echo "muster agent registry — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $N seeded agents, SQLite"
echo "RSS idle after start: ${RSS_START} MB; idle after the runs: ${RSS_IDLE} MB (target < 150 MB)"
echo "client.keys lines after the enrollment run: $KEYS (agents registered: $AGENTS)"
