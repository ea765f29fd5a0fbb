#!/usr/bin/env bash
# Installs what is missing, builds Custodian with warnings as errors, and runs every test.
# This is the README's test command, and exactly what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build-test}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTODIAN_WERROR=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"
# Tests that share the camera simulator's ports or the CPU-heavy ones run one at a time;
# ctest's closing line ("N% tests passed, N tests failed out of N") ends the output.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900
