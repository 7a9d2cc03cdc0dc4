#!/usr/bin/env bash
# Benchmark of `muster coverage` (issue 12 target: 100,000 devices across 4
# sources reconciled in under 2 s of CPU beyond the sources' answers, in under
# 300 MB RSS, growing linearly).
#
# It builds muster, the agent seeder and the export generator, seeds a muster
# server with DEVICES agents, writes three exports (a CMDB CSV with every
# device and 1% more, an RMM JSON with 90%, an MDM CSV with 60% by serial
# only), then runs `muster coverage -o json` RUNS times and prints, per run:
# wall time, the process's CPU (user+sys), peak RSS, each source's fetch time,
# devices and findings. The engine alone (no I/O) is measured by
#   go test -run '^$' -bench Reconcile -benchmem ./internal/coverage/
#
# Environment: DEVICES=100000 RUNS=3 KEEP=0
set -euo pipefail
DEVICES=${DEVICES:-100000}
RUNS=${RUNS:-3}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/muster-coverage-bench.XXXXXX)
SERVER_PID=""
cleanup() {
	if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
	if [[ $KEEP == 1 ]]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
die() { echo "bench/coverage: $*" >&2; exit 2; }
log() { echo "== $*" >&2; }
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed for the peak RSS (apt-get install -y time)"

cd "$ROOT"
log "building"
go build -o "$WORK/muster" ./cmd/muster
go build -o "$WORK/seed" ./bench/agents/seed
go build -o "$WORK/gen" ./bench/coverage/gen
log "seeding $DEVICES agents and writing the exports"
"$WORK/seed" -n "$DEVICES" -data-dir "$WORK/data" >&2
"$WORK/gen" -n "$DEVICES" -dir "$WORK"
printf 'api:\n  access:\n    max_request_per_minute: 0\n' >"$WORK/server.yaml"
"$WORK/muster" server --data-dir "$WORK/data" --config "$WORK/server.yaml" --api-host 127.0.0.1 --api-port 0 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 400); do
	URL=$(grep -o 'https://127\.0\.0\.1:[0-9]*' "$WORK/server.log" 2>/dev/null | head -1 || true)
	[[ -n $URL ]] && break
	kill -0 "$SERVER_PID" 2>/dev/null || die "the server stopped: $(tail -5 "$WORK/server.log")"
	sleep 0.05
done
[[ -n $URL ]] || die "the server did not start: $(tail -5 "$WORK/server.log")"
printf 'wazuh\n' >"$WORK/wazuh.pw"; chmod 600 "$WORK/wazuh.pw"
cat >"$WORK/coverage.yaml" <<YAML
window: 24h
sources:
  - {name: wazuh, kind: wazuh, url: "$URL", user: wazuh, password_file: wazuh.pw, ca: [data/ssl/server.crt]}
  - {name: cmdb, kind: file, path: cmdb.csv, preset: servicenow}
  - {name: rmm, kind: file, path: rmm.json, records: devices, columns: {id: id, hostname: host, mac: mac, state: state, last_seen: seen}, healthy: [online]}
  - {name: mdm, kind: file, path: mdm.csv, columns: {id: device_id, serial: serial, last_seen: last_checkin}}
require:
  - {scope: [cmdb, rmm, mdm], must_have: [wazuh]}
  - {scope: [cmdb], must_have: [rmm]}
YAML
printf '%-4s %7s %7s %8s  %s\n' run wall_s cpu_s rss_MiB "fetch_s per source; devices; findings"
for i in $(seq 1 "$RUNS"); do
	start=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$WORK/time.$i" "$WORK/muster" coverage --config "$WORK/coverage.yaml" -q -o json --max all=off \
		>"$WORK/report.$i.json" 2>"$WORK/err.$i" || die "run $i failed: $(tail -3 "$WORK/err.$i")"
	end=$(date +%s.%N)
	read -r u s rss <"$WORK/time.$i"
	summary=$(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
print(" ".join("%s=%.2f" % (s["name"], s["fetch_seconds"]) for s in r["sources"]),
      "; %d devices;" % r["summary"]["devices"],
      ",".join("%s=%d" % kv for kv in r["summary"]["findings"].items() if kv[1]))' "$WORK/report.$i.json")
	printf '%-4s %7.2f %7.2f %8.1f  %s\n' "$i" "$(echo "$end - $start" | bc)" "$(echo "$u + $s" | bc)" "$(echo "$rss / 1024" | bc -l)" "$summary"
done
