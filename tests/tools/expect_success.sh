#!/usr/bin/env bash
# Runs a program and passes only when it exits 0 and its output (stdout and
# stderr) matches every pattern (grep -E) given before `--`.
#   expect_success.sh PATTERN... -- PROGRAM [ARGS...]
set -u
patterns=()
while [[ $# -gt 0 && $1 != -- ]]; do patterns+=("$1"); shift; done
[[ $# -gt 1 ]] || { echo "usage: expect_success.sh PATTERN... -- PROGRAM [ARGS...]" >&2; exit 2; }
shift
out=$("$@" 2>&1)
rc=$?
echo "$out"
status=0
[[ $rc -eq 0 ]] || { echo "expect_success: '$1' exited $rc"; status=1; }
for p in "${patterns[@]}"; do
  grep -qE -- "$p" <<<"$out" || { echo "expect_success: no line matches '$p'"; status=1; }
done
exit $status
