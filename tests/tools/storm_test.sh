#!/usr/bin/env bash
# No retry storm against a real limiter that gives no Retry-After: nginx
# limit_req as it comes (503 without Retry-After, no burst) at 10
# requests/s, `batching run` with no declared rate draining 20,000
# operations (100 per request). Checks, on nginx's own access log: every
# operation succeeded (exit 0), and over any 10-second span the rejected
# requests per second stay at or below the budget's own rate (10/s).
# Prints the share of the budget used over the drain.
#   storm_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
# shellcheck source=nginx_env.sh
source "$(dirname "$0")/nginx_env.sh"
trap 'stop_nginx "$dir"; rm -rf "$dir"' EXIT
start_nginx "$dir" 10 0 plain || exit 1
for i in $(seq 1 20000); do echo "{\"title\":\"item $i\"}"; done >"$dir/ops.jsonl"
out=$("$bin" run --input "$dir/ops.jsonl" --target "http://127.0.0.1:$nginx_port/append" \
      --rate 0 --no-resources --timeout-seconds 300 2>&1)
rc=$?
echo "$out" | tail -n 3
fail=0
[[ $rc -eq 0 ]] || { echo "FAIL: exit $rc"; fail=1; }
grep -qE '^batching run: 20000 succeeded, 0 failed, 0 cancelled of 20000 in ' <<<"$out" \
  || { echo "FAIL: summary"; fail=1; }
requests=$(grep -oE '; [0-9]+ requests' <<<"$out" | grep -oE '[0-9]+')
wait_for_log "$dir" "$requests"
python3 - "$dir/access.log" <<'PY' || fail=1
import sys
rows = [line.split() for line in open(sys.argv[1])]
ok = sorted(float(t) for s, t in rows if s == '200')
bad = sorted(float(t) for s, t in rows if s != '200')
def peak(times, width):
    j = most = 0
    for i in range(len(times)):
        while times[i] - times[j] >= width:
            j += 1
        most = max(most, i - j + 1)
    return most
span = ok[-1] - ok[0] if len(ok) > 1 else 1
use = (len(ok) - 1) / span / 10 if len(ok) > 1 else 0
storm = peak(bad, 10) / 10
print(f"storm test: {len(ok)} accepted, {len(bad)} rejected ({len(bad) / len(rows):.1%}); "
      f"budget use {use:.0%} over {span:.0f} s; peak rejected {storm:.1f}/s over 10 s (budget 10/s)")
sys.exit(0 if storm <= 10 else 1)
PY
[[ $fail -eq 0 ]] && echo "storm test: ok"
exit $fail
