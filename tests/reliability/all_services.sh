#!/usr/bin/env bash
# Fault suite 4: every service at once under API load (docs/design/reliability.md).
#
#   all_services.sh CUSTODIAN_BINARY CUSTODIAN_SIM_BINARY [SECONDS] [CAMERAS]
#
# Starts the camera simulator with CAMERAS (default 32) small cameras, and `custodian
# record`, `retain` and `serve` on one site; once every camera records, wrk loads a logged
# footage route (a 4 KiB range of a real recorded segment; one viewing, so one start entry
# and, at shutdown, one end entry counting the requests) for SECONDS (default 45; the long
# mode runs 300). Then, with the services stopped:
#   - no service logged "database is locked" (or SQLITE_BUSY);
#   - no segment row was lost: `custodian check --hashes` finds records and disk agreeing;
#   - no request went unlogged: the viewing's end entries, written at shutdown, count as
#     many requests as the server answered 2xx (its /metrics), and `custodian audit verify`
#     passes the hash chain.
# Prints "figure ..." lines, and exits non-zero on any failure. Loopback only.
set -euo pipefail

BIN=$(realpath "${1:?usage: all_services.sh CUSTODIAN SIM [SECONDS] [CAMERAS]}")
SIM=$(realpath "${2:?usage: all_services.sh CUSTODIAN SIM [SECONDS] [CAMERAS]}")
SECS=${3:-45}
CAMS=${4:-32}
for tool in wrk curl sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "all_services: needs $tool (scripts/deps.sh)"; exit 2; }
done

WORK=$(mktemp -d /var/tmp/custodian-all-services-XXXXXX)
DATA="$WORK/data"
PIDS=()
SIM_IN=""
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$SIM_IN" ] && exec {SIM_IN}>&- 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "all_services: FAILED: $*"; for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

# A free loopback port for the API (the simulator picks its own).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# --- Simulator -----------------------------------------------------------------------------
mkfifo "$WORK/sim.in"
STREAMS=()
for i in $(seq 0 $((CAMS - 1))); do
  STREAMS+=(--stream "cam-$i:width=320,height=240,gop=25,clip=4,bitrate=300")
done
"$SIM" --port 0 --quit-on-eof "${STREAMS[@]}" < "$WORK/sim.in" > "$WORK/sim.out" 2> "$WORK/sim.log" &
PIDS+=($!)
exec {SIM_IN}> "$WORK/sim.in"
for _ in $(seq 600); do grep -q '^ready ' "$WORK/sim.out" && break; sleep 0.2; done
SIM_URL=$(sed -n 's/^ready //p' "$WORK/sim.out" | head -1)
[ -n "$SIM_URL" ] || fail "the simulator did not start"

# --- Site ----------------------------------------------------------------------------------
mkdir -p "$DATA"
{
  echo 'site: { name: "All services" }'
  echo "data_dir: $DATA"
  echo 'log_level: info'
  echo "http: { listen: \"127.0.0.1:$PORT\" }"
  echo 'recorder: { segment_seconds: 4 }'
  echo 'cameras:'
  for i in $(seq 0 $((CAMS - 1))); do
    echo "  - id: cam-$i"
    echo "    url: $SIM_URL/cam-$i"
    echo "    transport: tcp"
  done
} > "$WORK/site.yaml"
C() { "$BIN" --config "$WORK/site.yaml" "$@"; }
GRANTS=()
for i in $(seq 0 $((CAMS - 1))); do GRANTS+=(--camera "cam-$i"); done
echo "load-password-123" | C user add loader --role manager "${GRANTS[@]}" >/dev/null
# /metrics needs an admin session, from loopback too.
echo "metrics-password-123" | C user add metrics --role admin >/dev/null

# Started directly, not through C: a function in the background is a subshell, and its
# pid would get the SIGTERM instead of the service's.
for verb in record retain serve; do
  "$BIN" --config "$WORK/site.yaml" "$verb" > "$WORK/$verb.log" 2>&1 &
  PIDS+=($!)
done
BASE="https://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -skf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
curl -skf "$BASE/healthz" >/dev/null || fail "the server did not start"

# Every camera has a complete segment.
q() { sqlite3 -cmd ".timeout 5000" "$DATA/records.db" "$1"; }
for _ in $(seq 300); do
  n=$(q "SELECT count(DISTINCT camera_id) FROM segments WHERE state = 'complete'" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge "$CAMS" ] && break
  sleep 0.2
done
[ "${n:-0}" -ge "$CAMS" ] || fail "only $n of $CAMS cameras recorded a segment"
SEG=$(q "SELECT id FROM segments WHERE state = 'complete' ORDER BY id LIMIT 1")

COOKIE=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"loader","password":"load-password-123"}' "$BASE/api/v1/auth/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$COOKIE" ] || fail "login failed"
ADMIN_COOKIE=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"metrics","password":"metrics-password-123"}' "$BASE/api/v1/auth/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$ADMIN_COOKIE" ] || fail "the metrics account's login failed"
URL="$BASE/api/v1/segments/$SEG/file?purpose=system_check&purpose_text=reliability%20load"
metric() { curl -sk -H "Cookie: $ADMIN_COOKIE" "$BASE/metrics" | sed -n "s/^custodian_http_requests_total{route=\"download\",status=\"$1\"} //p"; }
rows() { q "SELECT count(*) FROM access_log WHERE action = 'download'"; }
# The requests the viewings' end entries account for ("...; N requests, ...").
ended_requests() {
  q "SELECT detail FROM access_log WHERE action = 'download_end'" |
    sed -n 's/.*; \([0-9]*\) requests, .*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}
FIRST=$(curl -sk -o "$WORK/first.body" -w '%{http_code}' -H "Cookie: $COOKIE" -H "Range: bytes=0-15" "$URL")
[ "$FIRST" = 206 ] || fail "the footage route answered $FIRST: $(head -c 300 "$WORK/first.body")"

# --- Load ----------------------------------------------------------------------------------
ROWS_BEFORE=$(rows)
OK_BEFORE=$(metric 2xx); OK_BEFORE=${OK_BEFORE:-0}
wrk -t2 -c32 -d"${SECS}s" -H "Cookie: $COOKIE" -H "Range: bytes=0-4095" "$URL" > "$WORK/wrk.txt" 2>&1 ||
  fail "wrk failed: $(cat "$WORK/wrk.txt")"
sleep 1
OK=$(( $(metric 2xx) - OK_BEFORE ))
ROWS=$(( $(rows) - ROWS_BEFORE ))
RATE=$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.txt")
NON2XX=$(sed -n 's/.*Non-2xx or 3xx responses: *//p' "$WORK/wrk.txt"); NON2XX=${NON2XX:-0}

# --- Stop and check ------------------------------------------------------------------------
for p in "${PIDS[@]:1}"; do kill -TERM "$p"; done
for p in "${PIDS[@]:1}"; do wait "$p" || fail "a service exited with status $?"; done
PIDS=("${PIDS[0]}")
SEGMENTS=$(q "SELECT count(*) FROM segments")
LOCKED=$(cat "$WORK"/record.log "$WORK"/retain.log "$WORK"/serve.log | grep -c -i -E 'database is locked|SQLITE_BUSY' || true)
ENDED=$(ended_requests)
CHECK_OUT=$(C check --hashes 2>&1) && CHECK_RC=0 || CHECK_RC=$?
VERIFY_OUT=$(C audit verify 2>&1) && VERIFY_RC=0 || VERIFY_RC=$?

echo "figure all services ($CAMS cameras, wrk -c32 ${SECS}s): $RATE logged req/s; $OK answered 2xx, $NON2XX non-2xx; $ROWS access-log start rows, end rows counting $ENDED requests (1 before the load); $SEGMENTS segment rows, check --hashes exit $CHECK_RC; 'database is locked' $LOCKED time(s)"
[ "$LOCKED" -eq 0 ] || fail "'database is locked' logged $LOCKED time(s)"
[ "$NON2XX" -eq 0 ] || fail "$NON2XX requests were not answered 2xx"
[ "$OK" -gt 0 ] || fail "no request was answered"
[ "$(rows)" -ge 1 ] || fail "no viewing was logged"
[ "$ENDED" -eq "$((OK + 1))" ] || fail "the viewings' end entries count $ENDED requests, the server answered $((OK + 1))"
[ "$CHECK_RC" -eq 0 ] || fail "check --hashes: $CHECK_OUT"
[ "$VERIFY_RC" -eq 0 ] || fail "audit verify: $VERIFY_OUT"
echo "all_services: passed"
