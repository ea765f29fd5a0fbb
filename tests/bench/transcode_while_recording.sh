#!/usr/bin/env bash
# One viewer's H.264 copy of 1080p H.265 (api_live_test "[.measure]") while `custodian record`
# records 8 simulated 1080p25 H.264 cameras (~4 Mbit/s each) on the same machine, in the
# same run: the copy's speed against real time, and the recorder's CPU while it ran.
#
#   tests/bench/transcode_while_recording.sh BUILD_DIR [CAMERAS]
set -euo pipefail
BUILD=$(realpath "${1:?usage: transcode_while_recording.sh BUILD_DIR [CAMERAS]}")
CAMERAS=${2:-8}
WORK=$(mktemp -d /var/tmp/custodian-transcode-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  exec 3>&- 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
streams=() cams=""
for i in $(seq 1 "$CAMERAS"); do
  streams+=(--stream "cam$i:codec=h264,width=1920,height=1080,fps=25,bitrate=4000,clip=10")
  cams+="  - { id: cam$i, url: \"rtsp://127.0.0.1:$port/cam$i\", transport: tcp }"$'\n'
done
mkdir -p "$WORK/data"
cat > "$WORK/site.yaml" <<YAML
site: { name: "Transcode bench" }
data_dir: $WORK/data
log_level: warn
cameras:
$cams
YAML
mkfifo "$WORK/sim.in"
"$BUILD/tests/sim/custodian-sim" --port "$port" --quit-on-eof --log-level warn "${streams[@]}" \
  < "$WORK/sim.in" > "$WORK/sim.out" 2> "$WORK/sim.log" &
PIDS+=($!)
exec 3> "$WORK/sim.in"
for _ in $(seq 1 600); do grep -q '^ready' "$WORK/sim.out" 2>/dev/null && break; sleep 0.5; done
grep -q '^ready' "$WORK/sim.out" || { echo "bench: the simulator did not start"; exit 1; }
"$BUILD/app/custodian" --config "$WORK/site.yaml" record > "$WORK/record.log" 2>&1 &
RECORDER=$!
PIDS+=($RECORDER)
for _ in $(seq 1 120); do
  n=$(sqlite3 "$WORK/data/records.db" "SELECT count(DISTINCT camera_id) FROM segments" 2>/dev/null || echo 0)
  [ "${n:-0}" -ge "$CAMERAS" ] && break
  sleep 0.5
done
[ "${n:-0}" -ge "$CAMERAS" ] || { echo "bench: only ${n:-0} of $CAMERAS cameras recording"; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
r0=$(ticks "$RECORDER"); t0=$(date +%s.%N)
"$BUILD/api/api_live_test" "[.measure]" 2>/dev/null | grep '^transcode'
r1=$(ticks "$RECORDER"); t1=$(date +%s.%N)
awk -v r="$((r1 - r0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" -v n="$CAMERAS" 'BEGIN {
  printf "recorder meanwhile: %.2f CPU s over %.1f s for %d cameras (%.3f of a core per camera)\n",
         r / hz, t1 - t0, n, r / hz / (t1 - t0) / n }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
