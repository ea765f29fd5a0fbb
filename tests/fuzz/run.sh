#!/usr/bin/env bash
# Runs every fuzz target of a CUSTODIAN_FUZZ build for a bounded time over its committed
# corpus (tests/fuzz/corpus/TARGET/), FUZZ_JOBS targets at a time (default: one per core;
# each libFuzzer process uses one core, and each still runs its full time). New interesting
# inputs go to a scratch corpus under the build directory, not into the source tree; a crash leaves its
# input as BUILD/fuzz-out/TARGET/crash-*, which, once fixed, belongs in corpus/TARGET/.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
# Prints one line per target: executions, corpus size, and crashes (0 or 1: libFuzzer stops
# at the first). Exits non-zero if any target crashed.
set -uo pipefail
build=${1:?usage: run.sh BUILD_DIR [SECONDS] [TARGET...]}
seconds=${2:-25}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
src=$(cd "$(dirname "$0")" && pwd)
# By default every target that has a committed corpus (each one in CMakeLists.txt has).
if [ ${#targets[@]} -eq 0 ]; then
  for d in "$src"/corpus/*/; do targets+=("$(basename "$d")"); done
fi
failed=0
# One target: its libFuzzer run, then its summary line (and the report's head on failure) in
# BUILD/fuzz-out/TARGET/summary, printed in target order once every run has finished.
fuzz_one() {
  local t=$1 bin out log rc execs corpus crashes
  bin="$build/tests/fuzz/fuzz_$t"
  out="$build/fuzz-out/$t"
  mkdir -p "$out/corpus"
  rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*  # last run's findings
  log="$out/fuzz.log"
  # -rss_limit_mb: the sanitizers' shadow memory counts; -timeout: a single input over
  # 10 s is a hang. UBSan reports abort (halt_on_error) so they count as crashes.
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=0 \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
      -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" "$src/corpus/$t" > "$log" 2>&1
  rc=$?
  execs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(ls "$out/corpus" | wc -l)
  crashes=$(ls "$out" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
  {
    echo "fuzz $t: ${seconds}s, ${execs:-0} executions, $corpus new corpus inputs, $crashes crash(es), exit $rc"
    if [ $rc -ne 0 ]; then
      grep -a -m1 -A12 'ERROR\|runtime error\|server error' "$log" | head -20
    fi
  } > "$out/summary"
  echo "$rc" > "$out/rc"
}
jobs_max=${FUZZ_JOBS:-$(nproc)}
names=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz $t: $bin is missing (a corpus without a built target)"
    failed=1
    continue
  fi
  rm -f "$build/fuzz-out/$t/summary" "$build/fuzz-out/$t/rc"
  # At most jobs_max runs at once: wait for any one to end before starting the next.
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  fuzz_one "$t" &
  names+=("$t")
done
wait
for t in "${names[@]}"; do
  out="$build/fuzz-out/$t"
  cat "$out/summary" 2>/dev/null || echo "fuzz $t: no summary"
  [ "$(cat "$out/rc" 2>/dev/null)" = 0 ] || failed=1
done
exit $failed
