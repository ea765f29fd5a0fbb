#!/usr/bin/env bash
# Checks that the C++ lines changed since BASE (default: the merge base with main) are
# formatted as .clang-format says; prints the fix as a diff and exits 1 otherwise. Lines a
# change does not touch are left alone. Skips (exit 0, saying so) when there is no base to
# compare with, as on main itself.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-}
if [ -z "$base" ]; then
  if ! git rev-parse -q --verify main > /dev/null; then
    echo "check_format: no main branch to compare with; skipped"
    exit 0
  fi
  base=$(git merge-base HEAD main)
fi
if [ "$base" = "$(git rev-parse HEAD)" ] && git diff --quiet HEAD; then
  echo "check_format: nothing changed since $base; skipped"
  exit 0
fi
fix=$(git diff -U0 --no-color "$base" -- '*.cpp' '*.h' |
      clang-format-diff-14 -p1 -style=file)
if [ -n "$fix" ]; then
  echo "check_format: changed lines are not formatted as .clang-format says; the fix:"
  echo "$fix"
  exit 1
fi
echo "check_format: changed lines are formatted"
