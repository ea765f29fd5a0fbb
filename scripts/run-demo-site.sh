#!/usr/bin/env bash
# Runs the demo site from an existing build: the camera simulator serving the demo cameras
# of camera-configs/demo-site.yaml on rtsp://127.0.0.1:8554, and custodian's three services
# on it: record (into demo-data/), retain, and serve (HTTPS API on 127.0.0.1:8443 with a
# self-signed certificate). A demo manager account is made on first run and its password
# printed once. Stops everything on Ctrl-C or SIGTERM. Usage: run-demo-site.sh BUILD_DIR
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
  --stream "porch:codec=h264,width=1280,height=720,fps=25,bitrate=1500,clip=10" \
  --stream "porch-sub:codec=h264,width=640,height=360,fps=25,bitrate=500,clip=10" \
  < "$fifo" > demo-data/sim.out 2> demo-data/sim.log &
sim_pid=$!
exec 3> "$fifo"
rm -f "$fifo"

cleanup() {
  for pid in ${svc_pids:-} ${onvif_pid:-}; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in ${svc_pids:-}; do wait "$pid" 2>/dev/null || true; done
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
# A FAKE ONVIF camera (tests/fakes/fake_onvif.cpp) in front of the porch streams, to try
# adding a camera by discovery: in camera setup, search the address 127.0.0.1 with user
# name demo and password demo-camera.
ONVIF="$BUILD_DIR/tests/fakes/fake-onvif"
if [ -x "$ONVIF" ]; then
  "$ONVIF" --discovery-port 3702 --username demo --password demo-camera \
    --main-uri rtsp://127.0.0.1:8554/porch --sub-uri rtsp://127.0.0.1:8554/porch-sub \
    > demo-data/onvif.out 2> demo-data/onvif.log < /dev/null &
  onvif_pid=$!
  echo "demo: a fake ONVIF camera answers a search of 127.0.0.1 in camera setup" \
       "(user demo, password demo-camera)"
fi
if [ ! -f demo-data/.demo-user ]; then
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  if echo "$password" | "$CUSTODIAN" --config "$SITE" user add demo-manager --role manager \
       --camera lobby --camera yard >/dev/null; then
    touch demo-data/.demo-user
    echo "demo: made account demo-manager with password $password (shown once)"
  fi
fi
if [ ! -f demo-data/.demo-admin ]; then
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  if echo "$password" | "$CUSTODIAN" --config "$SITE" user add demo-admin --role admin >/dev/null; then
    touch demo-data/.demo-admin
    echo "demo: made account demo-admin (camera setup, users) with password $password (shown once)"
  fi
fi
# Every footage request needs a second manager to decide it (four-eyes: never the one who
# logged it), and the access log, disclosure register and deletion records are the DPO's:
# without these two accounts a police request or a DSAR cannot be tried end to end in the
# web UI, and an admin alone cannot make them (a manager or DPO role made by an admin waits
# for another admin or the DPO to confirm it).
demo_account() {  # NAME ROLE WHAT [--camera ID]...
  local name=$1 role=$2 what=$3
  shift 3
  [ -f "demo-data/.$name" ] && return 0
  local password
  password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
  if echo "$password" | "$CUSTODIAN" --config "$SITE" user add "$name" --role "$role" "$@" >/dev/null; then
    touch "demo-data/.$name"
    echo "demo: made account $name ($what) with password $password (shown once)"
  fi
}
demo_account demo-manager2 manager "decides demo-manager's requests" --camera lobby --camera yard
demo_account demo-dpo dpo "access log, disclosures, deletion records" --camera lobby --camera yard
# What an installer's first boot does (`custodian setup`): the data directories, the HTTPS
# certificate and the export-signing key, which also signs the daily access-log checkpoint
# (without it retain logs an error at its first pass). Idempotent: a second start keeps
# them, and it makes no admin while demo-admin exists. Its fingerprints go to a file.
if ! "$CUSTODIAN" --config "$SITE" setup > demo-data/setup.out 2>&1; then
  echo "demo: custodian setup failed; see demo-data/setup.out"
  cat demo-data/setup.out
  exit 1
fi
echo "demo: HTTPS certificate and export-signing key ready (fingerprints in demo-data/setup.out)"
echo "demo: recording into demo-data/; web UI at https://127.0.0.1:8443/ (API under /api/v1; Ctrl-C stops)"
echo "demo: in another shell: $CUSTODIAN --config $SITE check"
"$CUSTODIAN" --config "$SITE" record &
svc_pids="$!"
"$CUSTODIAN" --config "$SITE" retain &
svc_pids="$svc_pids $!"
"$CUSTODIAN" --config "$SITE" serve &
svc_pids="$svc_pids $!"
wait -n $svc_pids
echo "demo: a service stopped; stopping the rest"
