#!/usr/bin/env bash
# tools/strategy_sweep.sh does what docs/benchmarks.md says: its rows are
# the figures `batching sim` prints for the same seed, a shifted schedule
# really moves the phases, and bad input gives a message and exit 2.
#   strategy_sweep_test.sh BATCHING_BINARY SOURCE_DIR
set -u
bin=${1:?binary}
src=${2:?source dir}
sweep=$src/tools/strategy_sweep.sh
scenario=$src/sim/scenarios/notion_burst_10x.yaml
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

"$sweep" --help | grep -q 'SEEDS' || { echo "FAIL: --help"; fail=1; }
"$sweep" "$dir/none.yaml" ml,clipper "$bin" 2>"$dir/err"
[[ $? -eq 2 ]] && grep -q 'no scenario file' "$dir/err" \
  || { echo "FAIL: a missing scenario must exit 2 with a message"; fail=1; }

out=$(SEEDS=1 SHIFTS="0 30" "$sweep" "$scenario" ml,clipper "$bin" 2>/dev/null)
echo "$out"
[[ $(grep -c '^| seed 1 |' <<<"$out") -eq 1 && $(grep -c '^| phases ' <<<"$out") -eq 2 ]] \
  || { echo "FAIL: expected one seed row and two shifted rows"; fail=1; }
grep -q 'of 3 runs$' <<<"$out" || { echo "FAIL: summary line"; fail=1; }

# "phases +0 s" is the scenario as shipped: the same figures as a direct run.
"$bin" sim "$scenario" --no-oracle --no-series --no-timing --quiet \
  --strategies ml,clipper --json "$dir/direct.json"
direct=$(python3 -c '
import json, sys
r = {x["strategy"]: x for x in json.load(open(sys.argv[1]))["results"]}
f = lambda x: "%.1f / %d / %.0f" % (x["goodput"], x["throttled"], x["latency_ms"]["p99"])
print("| " + f(r["ml"]) + " | " + f(r["clipper"]) + " |")' "$dir/direct.json")
row0=$(grep '^| phases +0 s' <<<"$out")
[[ $row0 == *"$direct"* ]] || { echo "FAIL: +0 s row '$row0' is not the direct run '$direct'"; fail=1; }
# Moving the 10x burst by 30 s changes the run.
row30=$(grep '^| phases +30 s' <<<"$out")
[[ ${row30#*s |} != "${row0#*s |}" ]] || { echo "FAIL: shifting the phases changed nothing"; fail=1; }

[[ $fail -eq 0 ]] && echo "strategy sweep: ok"
exit $fail
