#!/usr/bin/env bash
# Installs what is missing, builds Custodian twice and runs every test.
# This is the README's test command, and exactly what .ci/run runs.
#
#  0. The C++ lines changed since the merge base with main formatted as .clang-format says
#     (scripts/check_format.sh; skipped on main itself).
#  1. GCC Release build with warnings as errors, of the program and the corpus replays only
#     (the tests are built in stage 2), then the tests with the ctest label release_stage:
#     package_install_test (the .deb that ships, installed into a debootstrapped root); and
#     fuzz_replay_* (the committed corpora as ordinary tests; the build below runs them
#     through libFuzzer instead). This whole stage runs in the background, beside stage 2,
#     its compilers in the idle CPU class (SCHED_IDLE): they run only on a core that stage 2
#     leaves idle (the sanitized tests spend much of their time waiting on real-time video)
#     and give it up at once when a test wants it. Its tests start once the sanitized tests
#     are done, beside the fuzzing. Its output is printed at the end, and its failure fails
#     the run as before.
#  2. clang build of the whole tree with AddressSanitizer, UndefinedBehaviorSanitizer and
#     LeakSanitizer (CUSTODIAN_FUZZ: the same build also makes the libFuzzer harnesses),
#     linked with lld. Every other test runs here, the process-level suites included, so
#     each `custodian` and `custodian-sim` a test starts is a sanitized binary; the longest
#     tests carry a ctest COST so they start first. Then each fuzz target runs for
#     FUZZ_SECONDS over its corpus, one target per core at a time.
# Sanitizer reports are written to files (log_path), not stderr, one directory per test: a
# daemon that is stopped with SIGTERM, or whose exit status or log a test never reads,
# still leaves its report, any report fails the run, and the run prints each with the name
# of the test that caused it. See docs/design/reliability.md, "Sanitizers".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# Each stage line gives the wall time and the CPU seconds (user + system) of every command
# this script has waited for so far, which the machine's other load distorts less.
# (`times` runs in this shell, not in a command substitution, to see this shell's children.)
times_file=$(mktemp)
trap 'rm -f "$times_file"' EXIT
stage() {
  times > "$times_file"
  echo "test.sh: [$(date -u +%H:%M:%S), ${SECONDS} s, CPU $(awk 'NR == 2 {
    split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' \
    "$times_file") s] $*"
}

bash scripts/deps.sh
status=0

stage "0. formatting of the lines this branch changes (.clang-format)"
bash scripts/check_format.sh || status=1

stage "1. GCC Release build (-Werror) and the release-stage tests, in the background"
BUILD_DIR=${BUILD_DIR:-build-test}
mkdir -p "$BUILD_DIR"
release_log="$BUILD_DIR/release-stage.log"
# The compilers of this stage run in the idle scheduling class where the kernel allows it
# (root, as in CI), else at the lowest nice level: stage 2 keeps both cores busy while it
# builds, so this stage compiles mostly while the sanitized tests wait on real time, and a
# test never waits for it. Its tests wait until the sanitized tests are done (the gate file)
# and then run beside the fuzzing, at nice 10: package_install_test is mostly debootstrap,
# apt and dpkg writing and syncing a root file system, which would load the disk under the
# timed sanitized tests, and the corpus replays have 120 s timeouts that an idle-class
# process could miss while the fuzzers load both cores.
release_gate="$BUILD_DIR/.release-stage-tests-may-start"
rm -f "$release_gate"
idle=(nice -n 19)
if chrt --idle 0 true 2>/dev/null; then idle=(chrt --idle 0); fi
(
  set +e
  "${idle[@]}" cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCUSTODIAN_WERROR=ON > /dev/null &&
    "${idle[@]}" cmake --build "$BUILD_DIR" -j"$(nproc)" --target custodian fuzz_replay
  if [ $? -ne 0 ]; then
    echo "test.sh: the GCC Release build failed"
    exit 1
  fi
  echo "test.sh: [$(date -u +%H:%M:%S), ${SECONDS} s] GCC Release build done"
  # ($$ is this script: should it have ended without opening the gate, so does this.)
  until [ -e "$release_gate" ]; do
    kill -0 $$ 2>/dev/null || exit 1
    sleep 1
  done
  echo "test.sh: [$(date -u +%H:%M:%S), ${SECONDS} s] the release-stage tests"
  # ctest prints "N% tests passed, N tests failed out of N" for each test run.
  rc=0
  nice -n 10 ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 1200 \
    -L release_stage || rc=1
  nice -n 10 ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -R '^fuzz_replay_' || rc=1
  echo "test.sh: [$(date -u +%H:%M:%S), ${SECONDS} s] release-stage tests done"
  exit $rc
) > "$release_log" 2>&1 < /dev/null &
release_pid=$!
# Stage 1's output and result, once it has finished (at the end, or when stage 2 fails).
release_stage_result() {
  stage "1. GCC Release build and release-stage tests: waiting for them to finish"
  touch "$release_gate"
  local rc=0
  wait "$release_pid" || rc=1
  stage "1. GCC Release build and release-stage tests: their output"
  cat "$release_log"
  [ $rc -eq 0 ] || status=1
}

stage "2. clang build with ASan and UBSan (CUSTODIAN_FUZZ)"
SAN_DIR=${SAN_DIR:-build-sanitize}
# Everything but the fuzz harnesses, which are built while the tests run (below).
CC=clang CXX=clang++ cmake -S . -B "$SAN_DIR" -G Ninja -DCUSTODIAN_FUZZ=ON \
  -DCUSTODIAN_FUZZ_HARNESSES_IN_ALL=OFF > /dev/null
san_build=0
cmake --build "$SAN_DIR" -j"$(nproc)" || san_build=1
if [ $san_build -ne 0 ]; then
  release_stage_result
  stage "2. the clang build failed, exit 1"
  exit 1
fi
REPORTS=$(cd "$SAN_DIR" && pwd)/sanitizer-reports
rm -rf "$REPORTS" && mkdir -p "$REPORTS/unattributed"
# Each test runs through tests/sanitizer_launcher.sh, which sends the reports of the test
# and of every process it starts to REPORTS/TEST-NAME/report.EXE.PID; a process started
# some other way writes to REPORTS/unattributed. UBSan reads log_path too and aborts at the
# first report (with -fno-sanitize-recover). LeakSanitizer runs at every sanitized
# process's exit and ignores only the third-party leaks in tests/reliability/lsan.supp.
san_log="log_path=$REPORTS/unattributed/report:log_exe_name=1"
# The fuzz harnesses: no test needs them, so they are compiled and linked beside the tests,
# in the idle CPU class like stage 1, and waited for before the fuzzing.
fuzz_build_log="$SAN_DIR/fuzz-build.log"
"${idle[@]}" cmake --build "$SAN_DIR" -j"$(nproc)" --target fuzz > "$fuzz_build_log" 2>&1 < /dev/null &
fuzz_build_pid=$!
stage "2. every other test under the sanitizers (the fuzz harnesses build beside them)"
# The launcher also notes each test's wall and CPU seconds here (printed below).
test_times="$SAN_DIR/test-times.tsv"
rm -f "$test_times"
CUSTODIAN_TEST_TIMES="$(cd "$SAN_DIR" && pwd)/test-times.tsv" \
  CUSTODIAN_SANITIZER_REPORTS="$REPORTS" \
  ASAN_OPTIONS="detect_leaks=1:$san_log" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:$san_log" \
  LSAN_OPTIONS="suppressions=$ROOT/tests/reliability/lsan.supp:print_suppressions=0" \
  ctest --test-dir "$SAN_DIR" --output-on-failure -j"$(nproc)" --timeout 1200 \
    -LE release_stage || status=1
# How much of the two cores the tests used: what the background stage 1 can have.
if [ -s "$test_times" ]; then
  echo "test.sh: the longest sanitized tests: wall s, CPU s (the test and the processes it waited for):"
  sort -t "$(printf '\t')" -k2,2 -rn "$test_times" |
    awk -F '\t' 'NR <= 15 { printf "  %7.1f %7.1f  %s\n", $2, $3, $1 }'
  awk -F '\t' '{ w += $2; c += $3 } END {
    printf "test.sh: %d tests timed: %.0f test-seconds, %.0f CPU-seconds\n", NR, w, c }' "$test_times"
fi
mapfile -t reports < <(find "$REPORTS" -type f -name 'report.*' | sort)
if [ ${#reports[@]} -gt 0 ]; then
  echo "test.sh: ${#reports[@]} sanitizer report(s) (kept in $REPORTS):"
  for r in "${reports[@]}"; do
    echo "--- test: $(basename "$(dirname "$r")"); process: $(basename "$r")"
    head -n 80 "$r"
  done
  status=1
fi
touch "$release_gate"  # stage 1's tests may start (beside the fuzzing)
stage "2. the fuzz harnesses' build: waiting for it to finish"
if wait "$fuzz_build_pid"; then
  stage "2. fuzzing, ${FUZZ_SECONDS:-20} s per target"
  bash tests/fuzz/run.sh "$SAN_DIR" "${FUZZ_SECONDS:-20}" || status=1
else
  echo "test.sh: the fuzz harnesses' build failed:"
  tail -n 80 "$fuzz_build_log"
  status=1
fi
release_stage_result
stage "done, exit $status"
exit $status
