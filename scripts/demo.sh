#!/usr/bin/env bash
# Installs what is missing, builds Custodian, and runs the demo site: a simulated camera
# served on loopback by the camera simulator, recorded by `custodian run` with the
# embedded defaults (SQLite records and footage under ./demo-data). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j"$(nproc)"
exec bash scripts/run-demo-site.sh "$BUILD_DIR"
