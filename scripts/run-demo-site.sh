#!/usr/bin/env bash
# Runs the demo site from an existing build: the camera simulator serving the demo cameras
# of camera-configs/demo-site.yaml on rtsp://127.0.0.1:8554, and custodian recording them
# into demo-data/. Stops both on Ctrl-C or SIGTERM. Usage: run-demo-site.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build}
SIM="$BUILD_DIR/tests/sim/custodian-sim"
CUSTODIAN="$BUILD_DIR/app/custodian"
SITE=camera-configs/demo-site.yaml

mkdir -p demo-data
# The simulator lives as long as its stdin: a fifo held open by this script.
fifo=$(mktemp -u /tmp/custodian-demo-XXXXXX)
mkfifo "$fifo"
"$SIM" --port 8554 --quit-on-eof \
  --stream "lobby:codec=h264,width=1280,height=720,fps=25,bitrate=2000,clip=10" \
  --stream "yard:codec=h265,width=1280,height=720,fps=25,bitrate=1500,clip=10,audio=aac" \
  < "$fifo" > demo-data/sim.out 2> demo-data/sim.log &
sim_pid=$!
exec 3> "$fifo"
rm -f "$fifo"

cleanup() {
  [ -n "${rec_pid:-}" ] && kill -TERM "$rec_pid" 2>/dev/null && wait "$rec_pid" 2>/dev/null || true
  exec 3>&- || true
  wait "$sim_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

echo "demo: starting the camera simulator (the first run encodes its clips; this takes a minute)"
for _ in $(seq 1 300); do
  grep -q '^ready' demo-data/sim.out 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { echo "demo: the simulator failed; see demo-data/sim.log"; exit 1; }
  sleep 1
done
echo "demo: simulator $(head -n1 demo-data/sim.out)"
echo "demo: recording the demo site into demo-data/ (Ctrl-C to stop)"
echo "demo: in another shell: $CUSTODIAN --config $SITE check"
"$CUSTODIAN" --config "$SITE" record &
rec_pid=$!
wait "$rec_pid"
