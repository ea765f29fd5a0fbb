#!/bin/sh
# Runs one test command in the sanitized build so that every sanitizer report it causes,
# from the test binary or any custodian / custodian-sim process it starts (they inherit
# the environment), is written under a directory named after the test:
#   $CUSTODIAN_SANITIZER_REPORTS/NAME/report.EXE.PID
# NAME is the executable's name and, for a Catch2 test, "--" and the test case it runs
# (--name NAME gives it instead), with every character but letters, digits and _.+- made
# "_": the sanitizers' option strings split at ":" and ",". ctest runs every test of the sanitized build through this (the
# CROSSCOMPILING_EMULATOR of each test target; see CMakeLists.txt), and scripts/test.sh
# prints each report with its NAME. Without CUSTODIAN_SANITIZER_REPORTS it only runs the
# command.
# With CUSTODIAN_TEST_TIMES=FILE it also appends one line to FILE when the command ends:
#   NAME<TAB>wall seconds<TAB>CPU seconds (user + system) of the command and of every process
#   it started and waited for<TAB>exit status
# (scripts/test.sh prints the longest tests from it, with how busy they kept the CPU).
#   sanitizer_launcher.sh [--name NAME] COMMAND [ARGS...]
name=
if [ "$1" = --name ]; then name=$2; shift 2; fi
if [ -n "${CUSTODIAN_SANITIZER_REPORTS:-}" ]; then
  if [ -z "$name" ]; then
    name=$(basename "$1")
    # Catch2's discovery runs "EXE --list-test-names-only"; a test runs "EXE 'test name'".
    if [ $# -ge 2 ]; then
      case $2 in -*) ;; *) name="$name--$2" ;; esac
    fi
  fi
  dir="$CUSTODIAN_SANITIZER_REPORTS/$(printf '%s' "$name" | tr -c 'A-Za-z0-9_.+-' '_' | cut -c1-150)"
  mkdir -p "$dir"
  # A later log_path overrides an earlier one in these option strings.
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/report:log_exe_name=1"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$dir/report:log_exe_name=1"
fi
if [ -z "${CUSTODIAN_TEST_TIMES:-}" ]; then exec "$@"; fi
start=$(date +%s.%N)
"$@"
rc=$?
end=$(date +%s.%N)
# `times` prints this shell's user and system time, then its children's; it must run in this
# shell (not in a pipe or $(...), a subshell with no children) to see them.
times_out=$(mktemp)
times > "$times_out"
cpu=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$times_out")
rm -f "$times_out"
wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
printf '%s\t%s\t%s\t%d\n' "${name:-$*}" "$wall" "$cpu" "$rc" >> "$CUSTODIAN_TEST_TIMES"
exit $rc
