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
# ctest prints "N% tests passed, N tests failed out of N" for each test run.
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 900

# Hostile input and memory errors (issue 11, docs/design/reliability.md): a second build
# with clang, AddressSanitizer and UndefinedBehaviorSanitizer (CUSTODIAN_FUZZ) runs each
# libFuzzer harness for a bounded time over its committed corpus, then the unit-test
# binaries again under the sanitizers. The whole-process suites (recorder, CLI, web,
# reliability) run only in the build above.
SAN_DIR=${SAN_DIR:-build-sanitize}
SAN_TESTS=(base_test config_test records_test retention_test retention_policy_test
  retention_scheduler_test retention_concurrency_test requests_test exports_test api_test
  api_server_test recorder_unit_test media_test rtsp_unit_test)
CC=clang CXX=clang++ cmake -S . -B "$SAN_DIR" -G Ninja -DCUSTODIAN_FUZZ=ON > /dev/null
cmake --build "$SAN_DIR" -j"$(nproc)" --target fuzz "${SAN_TESTS[@]}"
bash tests/fuzz/run.sh "$SAN_DIR" "${FUZZ_SECONDS:-20}"
san_regex="^($(IFS='|'; echo "${SAN_TESTS[*]}")):"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir "$SAN_DIR" --output-on-failure -j"$(nproc)" --timeout 900 -R "$san_regex"
