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
exec "$@"
