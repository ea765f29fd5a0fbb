#!/usr/bin/env bash
# Installs what is missing, builds Custodian, the camera simulator and the fake ONVIF camera
# (nothing else), and runs the demo site (scripts/run-demo-site.sh): two simulated cameras
# served on loopback and a third to add in the web UI by ONVIF discovery,
# recorded, retained and served over HTTPS by custodian's services with the embedded
# defaults (SQLite records and footage under ./demo-data). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
# Only what the demo runs: the program, the camera simulator and the fake ONVIF camera
# (not the tests).
cmake --build "$BUILD_DIR" -j"$(nproc)" --target custodian custodian-sim fake-onvif
exec bash scripts/run-demo-site.sh "$BUILD_DIR"
