#!/usr/bin/env bash
# api_bench: the API server under load, against targets and against nginx.
#
#   tests/bench/api_bench.sh BUILD/app/custodian [SECONDS]      (or: ninja -C BUILD api_bench)
#
# 1. Logged footage requests: wrk, 64 connections for SECONDS (default 30) on
#    GET /api/v1/segments/1/file with a stated purpose and `Range: bytes=0-4095`, one
#    access-log entry per request. Reports requests/s and p99 latency, then checks that the
#    access-log rows written equal the requests the server answered (its own /metrics count)
#    and that the hash chain verifies. Targets: >= 2,000 logged req/s, p99 < 50 ms.
# 2. Segment download throughput: wrk, 8 connections, whole-file GETs of one 30-second
#    720p segment (about 15 MB), from custodian and from nginx serving the same file from
#    the same directory over TLS with the same certificate, in 4 rounds of 8 s that
#    alternate which goes first. Target: >= 0.8x nginx.
#
# Everything runs on loopback in a temporary directory on the same disk; wrk shares the CPU
# with the server, so on a small machine absolute figures are lower than a real client's.
# Not a ctest test.
set -euo pipefail

BIN=$(realpath "${1:?usage: api_bench.sh CUSTODIAN_BINARY [SECONDS]}")
SECS=${2:-30}
DL_SECS=8
DL_ROUNDS=4
PORT=${API_BENCH_PORT:-18643}
NGINX_PORT=${API_BENCH_NGINX_PORT:-18644}
for tool in wrk nginx ffmpeg sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { echo "api_bench: needs $tool (scripts/deps.sh)"; exit 2; }
done

WORK=$(mktemp -d /var/tmp/api-bench-XXXXXX)
DATA="$WORK/data"
SERVER_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- Site, account and one segment ------------------------------------------------------
mkdir -p "$DATA"
cat > "$WORK/site.yaml" <<YAML
site: { name: "API bench" }
data_dir: $DATA
log_level: warn
http: { listen: "127.0.0.1:$PORT" }
cameras:
  - id: bench-cam
    name: "Bench camera"
    url: rtsp://127.0.0.1:1/unused
YAML
C() { "$BIN" --config "$WORK/site.yaml" "$@"; }
echo "bench-password-123" | C user add bench --role staff --camera bench-cam >/dev/null
# /metrics needs an admin session, from loopback too.
echo "metrics-password-123" | C user add metrics --role admin >/dev/null

REL="footage/bench-cam/2026-01-01/20260101T000000Z.mp4"
mkdir -p "$(dirname "$DATA/$REL")"
echo "api_bench: encoding a 30 s 720p test segment"
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -t 30 \
  -c:v libx264 -preset ultrafast -b:v 4M -g 50 -pix_fmt yuv420p \
  -movflags frag_keyframe+empty_moov+default_base_moof "$DATA/$REL"
SIZE=$(stat -c %s "$DATA/$REL")
SHA=$(sha256sum "$DATA/$REL" | cut -d' ' -f1)
T0=1767225600000000
sqlite3 "$DATA/records.db" "INSERT INTO segments (camera_id, start_us, end_us, path, bytes,
  duration_us, video_codec, width, height, audio_note, sha256, state, clock_synced) VALUES
  ('bench-cam', $T0, $T0 + 30000000, '$REL', $SIZE, 30000000, 'h264', 1280, 720,
   'test clip has no audio', '$SHA', 'complete', 1);"
SEG=$(sqlite3 "$DATA/records.db" "SELECT id FROM segments WHERE path = '$REL'")

# --- Server and session ------------------------------------------------------------------
"$BIN" --config "$WORK/site.yaml" serve > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
BASE="https://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -skf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
COOKIE=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"bench","password":"bench-password-123"}' "$BASE/api/v1/auth/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$COOKIE" ] || { echo "api_bench: login failed"; cat "$WORK/serve.log"; exit 1; }
ADMIN_COOKIE=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
  -d '{"name":"metrics","password":"metrics-password-123"}' "$BASE/api/v1/auth/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p')
[ -n "$ADMIN_COOKIE" ] || { echo "api_bench: the metrics account's login failed"; exit 1; }
URL="$BASE/api/v1/segments/$SEG/file?purpose=system_check&purpose_text=api%20benchmark"
metric() { curl -sk -H "Cookie: $ADMIN_COOKIE" "$BASE/metrics" | sed -n "s/^custodian_http_requests_total{route=\"download\",status=\"$1\"} //p"; }
rows() { sqlite3 "$DATA/records.db" "SELECT count(*) FROM access_log WHERE action = 'download'"; }

# --- 1. Logged footage requests ------------------------------------------------------------
echo "api_bench: wrk -c64 -d${SECS}s on a logged footage route (4 KiB range)"
ROWS_BEFORE=$(rows)
wrk -t2 -c64 -d"${SECS}s" --latency -H "Cookie: $COOKIE" -H "Range: bytes=0-4095" "$URL" \
  | tee "$WORK/wrk-logged.txt"
sleep 1
SERVED_2XX=$(metric 2xx); SERVED_2XX=${SERVED_2XX:-0}
OTHER=$(( $(metric 4xx || echo 0) + 0 ))
ROWS=$(( $(rows) - ROWS_BEFORE ))
COMMITS=$(curl -sk -H "Cookie: $ADMIN_COOKIE" "$BASE/metrics" | sed -n 's/^custodian_access_log_commits_total //p')
VERIFY=$(C audit verify 2>&1 | tail -1)

# --- 2. Download throughput: custodian and nginx on the same file, alternating --------
cat "$DATA/$REL" > /dev/null  # both servers read from a warm page cache
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<NGINX
user root;
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $DATA/keys/https-cert.pem;
    ssl_certificate_key $DATA/keys/https-key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $DATA;
    location / { }
  }
}
NGINX
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
NGINX_URL="https://127.0.0.1:$NGINX_PORT/$REL"
for _ in $(seq 50); do curl -skf -o /dev/null "$NGINX_URL" && break; sleep 0.2; done
# Rounds alternate which server goes first, so that neither always meets the machine in
# the same state; each server's figure is its total over all rounds.
download() {  # NAME ROUND [wrk args...]
  local name=$1 round=$2; shift 2
  echo "api_bench: round $round: wrk -c8 -d${DL_SECS}s whole-segment downloads from $name"
  wrk -t2 -c8 -d"${DL_SECS}s" "$@" > "$WORK/wrk-$name-$round.txt"
  grep -E "Requests/sec|Transfer/sec" "$WORK/wrk-$name-$round.txt"
}
for round in $(seq "$DL_ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then
    download custodian "$round" -H "Cookie: $COOKIE" "$URL"
    download nginx "$round" "$NGINX_URL"
  else
    download nginx "$round" "$NGINX_URL"
    download custodian "$round" -H "Cookie: $COOKIE" "$URL"
  fi
done

# --- Summary -----------------------------------------------------------------------------
python3 - "$WORK" "$SERVED_2XX" "$OTHER" "$ROWS" "$VERIFY" "$SIZE" "$COMMITS" <<'PY'
import re, sys
work, served, other, rows, verify, size, commits = sys.argv[1:8]
served, other, rows = int(served), int(other), int(rows)
def read(name): return open(f"{work}/{name}").read()
def rate(text): return float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def mbps(text):
    v, unit = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]B)", text).groups()
    return float(v) * {"KB": 1/1024, "MB": 1, "GB": 1024}[unit]
def p99_ms(text):
    v, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", text).groups()
    return float(v) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
logged = read("wrk-logged.txt")
completed = int(re.search(r"(\d+) requests in", logged).group(1))
rps, p99 = rate(logged), p99_ms(logged)
import glob
def total_mbps(name):
    runs = sorted(glob.glob(f"{work}/wrk-{name}-*.txt"))
    return sum(mbps(open(r).read()) for r in runs) / len(runs)
cust, ngx = total_mbps("custodian"), total_mbps("nginx")
ok_rows = rows == served + other
print("\n=== api_bench summary ===")
print(f"logged footage requests: {rps:,.0f} req/s (target >= 2,000), p99 {p99:.1f} ms (target < 50)")
print(f"  wrk completed {completed}; server answered {served} (2xx) + {other} (4xx); "
      f"access-log rows written {rows}: {'EQUAL' if ok_rows else 'MISMATCH'}")
print(f"  {verify}; {rows / max(1, int(commits)):.1f} entries per commit (fsync)")
print(f"segment download ({int(size)/1e6:.1f} MB file, mean of rounds): custodian {cust:,.0f} MB/s, "
      f"nginx {ngx:,.0f} MB/s, ratio {cust/ngx:.2f} (target >= 0.8)")
sys.exit(0 if ok_rows and "verifies" in verify else 1)
PY
