#!/usr/bin/env bash
# Installs what is missing, builds Custodian twice and runs every test.
# This is the README's test command, and exactly what .ci/run runs.
#
#  0. The C++ lines changed since the merge base with main formatted as .clang-format says
#     (scripts/check_format.sh; skipped on main itself).
#  1. GCC Release build with warnings as errors, of the program and the corpus replays only
#     (the tests are built in stage 2). Only the tests with the ctest label release_stage
#     run here: package_install_test (the .deb that ships, installed into a
#     debootstrapped root); and fuzz_replay_* (the committed corpora as ordinary tests; the
#     build below runs them through libFuzzer instead). They run in the background during
#     stage 2's build (mostly debootstrap and dpkg, little compiler-bound work), and their
#     output is printed when that build ends.
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

stage "1. GCC Release build (-Werror): the program, its package and the corpus replays"
BUILD_DIR=${BUILD_DIR:-build-test}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTODIAN_WERROR=ON > /dev/null
# Only what this stage runs: the tests themselves are built (and run) in stage 2.
cmake --build "$BUILD_DIR" -j"$(nproc)" --target custodian fuzz_replay
stage "1. Release-only tests, started in the background while stage 2 builds"
# package_install_test spends its time mostly in debootstrap, apt and dpkg inside a chroot,
# not in the compiler, and reads only $BUILD_DIR; running it beside the clang build shortens
# the run by about its length. Its output is printed once the build is done.
# ctest prints "N% tests passed, N tests failed out of N" for each test run.
release_log="$BUILD_DIR/release-stage-tests.log"
(
  rc=0
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 1200 \
    -L release_stage || rc=1
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" -R '^fuzz_replay_' || rc=1
  exit $rc
) > "$release_log" 2>&1 < /dev/null &
release_pid=$!

stage "2. clang build with ASan and UBSan (CUSTODIAN_FUZZ)"
SAN_DIR=${SAN_DIR:-build-sanitize}
CC=clang CXX=clang++ cmake -S . -B "$SAN_DIR" -G Ninja -DCUSTODIAN_FUZZ=ON > /dev/null
san_build=0
cmake --build "$SAN_DIR" -j"$(nproc)" || san_build=1
stage "1. Release-only tests: their output"
release_rc=0
wait "$release_pid" || release_rc=1
cat "$release_log"
[ $release_rc -eq 0 ] || status=1
if [ $san_build -ne 0 ]; then
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
stage "2. every other test under the sanitizers"
CUSTODIAN_SANITIZER_REPORTS="$REPORTS" \
  ASAN_OPTIONS="detect_leaks=1:$san_log" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:$san_log" \
  LSAN_OPTIONS="suppressions=$ROOT/tests/reliability/lsan.supp:print_suppressions=0" \
  ctest --test-dir "$SAN_DIR" --output-on-failure -j"$(nproc)" --timeout 1200 \
    -LE release_stage || status=1
mapfile -t reports < <(find "$REPORTS" -type f -name 'report.*' | sort)
if [ ${#reports[@]} -gt 0 ]; then
  echo "test.sh: ${#reports[@]} sanitizer report(s) (kept in $REPORTS):"
  for r in "${reports[@]}"; do
    echo "--- test: $(basename "$(dirname "$r")"); process: $(basename "$r")"
    head -n 80 "$r"
  done
  status=1
fi
stage "2. fuzzing, ${FUZZ_SECONDS:-20} s per target"
bash tests/fuzz/run.sh "$SAN_DIR" "${FUZZ_SECONDS:-20}" || status=1
stage "done, exit $status"
exit $status
