#!/usr/bin/env bash
# Benchmark of `muster scan` against `muster server` (issue 6 target: 100,000
# agents in under 5 s with one login, memory proportional to one page plus
# the report).
#
# It builds muster, seeds a fleet with bench/agents/seed into a temp data
# directory, starts the manager on a free loopback port (rate limit off),
# then runs `muster scan -o json` RUNS times and prints, per run: wall time,
# the scan's own duration, logins, agents, pages and the scanner's peak RSS.
# Everything it started is stopped by PID on exit.
#
# Environment (all optional):
#   AGENTS=100000   fleet size
#   PAGE=5000       --page-size of the scan
#   RUNS=3          scans to time (the first one warms the manager's caches)
#   KEEP=0          1: keep the work directory (server log, reports)
set -euo pipefail

AGENTS=${AGENTS:-100000}
PAGE=${PAGE:-5000}
RUNS=${RUNS:-3}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/muster-scan-bench.XXXXXX)
SERVER_PID=""

cleanup() {
	if [[ -n $SERVER_PID ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [[ $KEEP == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

die() { echo "bench/scan: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed for the peak RSS (apt-get install -y time)"

cd "$ROOT"
log "building muster and the seeder"
go build -o "$WORK/muster" ./cmd/muster
go build -o "$WORK/seed" ./bench/agents/seed

log "seeding $AGENTS agents"
"$WORK/seed" -n "$AGENTS" -data-dir "$WORK/data" >&2

cat >"$WORK/config.yaml" <<'EOF'
api:
  access:
    max_request_per_minute: 0
EOF
"$WORK/muster" server --data-dir "$WORK/data" --config "$WORK/config.yaml" \
	--api-host 127.0.0.1 --api-port 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 400); do
	URL=$(grep -o 'https://127\.0\.0\.1:[0-9]*' "$WORK/server.log" 2>/dev/null | head -1 || true)
	[[ -n $URL ]] && break
	kill -0 "$SERVER_PID" 2>/dev/null || die "the server stopped: $(tail -5 "$WORK/server.log")"
	sleep 0.05
done
[[ -n $URL ]] || die "the server did not start: $(tail -5 "$WORK/server.log")"
log "manager at $URL"

export MUSTER_URL=$URL MUSTER_USER=wazuh MUSTER_PASSWORD=wazuh
CA="$WORK/data/ssl/server.crt"
"$WORK/muster" doctor --ca "$CA" >"$WORK/doctor.txt" 2>&1 || {
	cat "$WORK/doctor.txt" >&2
	die "muster doctor found a problem with the manager (above); fix it first"
}

printf '%-4s %8s %9s %7s %8s %6s %9s\n' run wall_s scan_s logins agents pages rss_MiB
for i in $(seq 1 "$RUNS"); do
	start=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$WORK/rss.$i" "$WORK/muster" scan --ca "$CA" -q -o json --max all=off \
		--page-size "$PAGE" >"$WORK/report.$i.json" 2>"$WORK/scan.$i.err" ||
		die "scan $i failed: $(tail -3 "$WORK/scan.$i.err")"
	end=$(date +%s.%N)
	read -r scan_s logins total < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["duration_seconds"],2), r["logins"], r["agents_total"])' "$WORK/report.$i.json")
	pages=$(( (AGENTS + 1 + PAGE - 1) / PAGE ))
	rss=$(( $(tail -1 "$WORK/rss.$i") / 1024 ))
	printf '%-4s %8.2f %9s %7s %8s %6s %9s\n' "$i" "$(echo "$end - $start" | bc)" "$scan_s" "$logins" "$total" "$pages" "$rss"
done
