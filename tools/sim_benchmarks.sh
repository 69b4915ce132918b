#!/usr/bin/env bash
# Runs every shipped scenario with every strategy and the oracle, and prints
# the goal table of docs/benchmarks.md (markdown) from the JSON results.
#   tools/sim_benchmarks.sh [BATCHING_BINARY] [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/batching}
out=${2:-$root/build/sim-benchmarks}
mkdir -p "$out"
for f in "$root"/sim/scenarios/*.yaml; do
  name=$(basename "$f" .yaml)
  [[ $name == maritime_demo ]] && continue # the demo's, run in real time
  echo "running $name" >&2
  "$bin" sim "$f" --strategies all --no-series --quiet --json "$out/$name.json"
done
python3 - "$out" <<'PY'
import glob, json, os, sys

def ok(r):  # meets the SLO with throttling <= 1%, loses nothing
    return r["slo_met"] and r["throttle_rate"] <= 0.01 and r["lost"] == 0

def beats(a, b):  # issue #4's "better"
    if ok(a) != ok(b):
        return ok(a)
    if a["goodput"] > 1.01 * b["goodput"]:
        return True
    if b["goodput"] > 1.01 * a["goodput"]:
        return False
    return a["latency_ms"]["p99"] < b["latency_ms"]["p99"]

ours = {"adaptive", "balanced", "conservative", "aggressive"}
print("| scenario | oracle goodput | adaptive goodput | vs oracle | 429 rate | p99 / SLO (ms) | convergence (s) | peers beaten | speed (items/wall-s) |")
print("|---|---|---|---|---|---|---|---|---|")
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    d = json.load(open(path))
    res = {r["strategy"]: r for r in d["results"]}
    a = res["adaptive"]
    changes = len(d["changes_s"]) > 0
    goal = 1.0 if changes else 0.97
    conv = a["convergence_s"]
    conv_txt = ", ".join("never" if c is None else f"{c:g}" for c in conv) or "-"
    conv_ok = all(c is not None and c <= 5 for c in conv)
    peers = [n for n in res if n not in ours]
    lost_to = [n for n in peers if not beats(a, res[n])]
    mark = lambda good: "" if good else " ✗"
    print(f"| {d['scenario']} | {d['oracle']['goodput']:.1f} | {a['goodput']:.1f} "
          f"| {a['goodput_vs_oracle']:.4f}{mark(a['goodput_vs_oracle'] >= goal)} "
          f"| {100 * a['throttle_rate']:.2f}%{mark(a['throttle_rate'] <= 0.005)} "
          f"| {a['latency_ms']['p99']:.0f} / {d['slo_p99_ms']:g}{mark(a['slo_met'])} "
          f"| {conv_txt}{mark(conv_ok)} "
          f"| {len(peers) - len(lost_to)}/{len(peers)}"
          + (f" (not {', '.join(lost_to)})" if lost_to else "")
          + f" | {a['sim_items_per_wall_s']:,.0f}{mark(a['sim_items_per_wall_s'] >= 1e6)} |")
PY
