#!/usr/bin/env bash
# `batching bench zoo` on a few draws: exit code 0 (nothing lost), the JSON
# schema of issue #15 (one run per draw and strategy), identical output for
# the same seed whatever the thread count, loose bounds on the default
# strategy, and exit 2 with a message on bad arguments.
#   zoo_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

"$bin" bench zoo --help | grep -q -- '--draws N' || { echo "FAIL: --help"; fail=1; }
"$bin" bench zoo --draws x 2>"$dir/err"
[[ $? -eq 2 ]] && grep -q 'whole numbers' "$dir/err" \
  || { echo "FAIL: --draws x must exit 2 with a message"; fail=1; }
"$bin" bench zoo --draws 2 --strategies nosuch 2>"$dir/err"
[[ $? -eq 2 ]] && grep -q "unknown strategy 'nosuch'" "$dir/err" \
  || { echo "FAIL: an unknown strategy must exit 2 with a message"; fail=1; }

"$bin" bench zoo --draws 2 --replicas 0 2>"$dir/err"
[[ $? -eq 2 ]] && grep -q "replicas must be >= 1" "$dir/err" \
  || { echo "FAIL: --replicas 0 must exit 2 with a message"; fail=1; }
# Replicas: every draw twice, the tables over replica 0, the comparison
# beyond the seed spread printed and in the JSON.
"$bin" bench zoo --draws 3 --seed 5 --strategies ml,clipper --replicas 2 \
  --json "$dir/r.json" >"$dir/rout" \
  || { echo "FAIL: bench zoo --replicas 2 exited $?"; fail=1; }
grep -q '^beyond the seed spread' "$dir/rout" && grep -Eq '^  clipper +[0-9]+ / [0-9]+ / [0-9]+' "$dir/rout" \
  || { echo "FAIL: --replicas prints the comparison beyond the seed spread"; fail=1; }
python3 - "$dir/r.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
ok = d["replicas"] == 2 and len(runs) == 3 * 2 * 3  # ml, clipper, oracle
ok = ok and sorted({r["replica"] for r in runs}) == [0, 1]
ml = [r for r in runs if r["strategy"] == "ml"]
ok = ok and all(r["learning"]["samples"] > 0 for r in ml)
ok = ok and all("learning" not in r for r in runs if r["strategy"] != "ml")
c = d["beyond_seed_spread"]
ok = ok and len(c) == 1 and c[0]["a"] == "ml" and c[0]["b"] == "clipper" \
     and c[0]["draws"] == 3 and len(c[0]["a_ahead"]) + len(c[0]["b_ahead"]) <= 3
if not ok:
    print("FAIL: --replicas JSON (replica per run, learning for ml, beyond_seed_spread)")
sys.exit(0 if ok else 1)
PY

"$bin" bench zoo --draws 4 --trace 4 2>"$dir/err"
[[ $? -eq 2 ]] && grep -q "numbered 0 to 3" "$dir/err" \
  || { echo "FAIL: --trace past the draws must exit 2 with a message"; fail=1; }
# One draw second by second: its run matches the same draw's in the JSON.
"$bin" bench zoo --draws 8 --seed 5 --trace 3 --strategies adaptive \
  >"$dir/trace" || { echo "FAIL: --trace exited $?"; fail=1; }
grep -q '^draw 3: ' "$dir/trace" && [[ $(grep -c '^599 ' "$dir/trace") -eq 2 ]] \
  || { echo "FAIL: --trace prints the draw and 600 s per strategy"; fail=1; }

"$bin" bench zoo --draws 8 --seed 5 --json "$dir/a.json" >"$dir/out" \
  || { echo "FAIL: bench zoo exited $? (lost operations?)"; fail=1; }
cat "$dir/out"
"$bin" bench zoo --draws 6 --seed 5 --strategies adaptive,netflix_aimd \
  --json "$dir/b.json" >/dev/null
"$bin" bench zoo --draws 6 --seed 5 --strategies adaptive,netflix_aimd \
  --threads 1 --json "$dir/c.json" >/dev/null
cmp -s "$dir/b.json" "$dir/c.json" \
  || { echo "FAIL: the same seed on 1 thread gave other figures"; fail=1; }

python3 - "$dir/a.json" "$dir/trace" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
check(d["seed"] == 5 and d["draws"] == 8 and d["default_strategy"] == "adaptive",
      "seed, draws, default_strategy")
names = {r["strategy"] for r in d["runs"]}
check(len(d["runs"]) == 8 * len(names), "one run per draw and strategy")
need = ["draw", "strategy", "limiter", "window_s", "headers", "knowledge",
        "goodput", "budget_use", "throttle_rate", "time_to_90pct_s",
        "storm_ratio", "latency_ms", "slo_met", "lost", "duplicated"]
for r in d["runs"]:
    missing = [k for k in need if k not in r]
    check(not missing, "run fields missing: %s" % missing)
    check("p99" in r["latency_ms"], "latency_ms.p99")
    check(r["knowledge"] in ("none", "right", "high", "low"), "knowledge")
    check(r["lost"] == 0, "%s lost operations on draw %d" % (r["strategy"], r["draw"]))
    check(r["budget_use"] is None or 0 <= r["budget_use"] <= 1.2, "budget_use range")
    check(0 <= r["throttle_rate"] <= 1, "throttle_rate range")
ours = [r for r in d["runs"] if r["strategy"] == "adaptive"]
trace = open(sys.argv[2]).read().splitlines()
head = next(l for l in trace if l.startswith("adaptive: "))
r3 = next(r for r in ours if r["draw"] == 3)
check(f"{r3['throttled']} of {r3['requests']} requests" in head,
      "--trace's adaptive run differs from the JSON's draw 3: " + head)
uses = sorted(r["budget_use"] for r in ours if r["budget_use"] is not None)
if uses:
    check(uses[len(uses) // 2] >= 0.3, "adaptive's median budget use %.2f < 0.3" % uses[len(uses) // 2])
check(sum(r["storm_ratio"] <= 1 for r in ours) >= len(ours) - 2,
      "adaptive stormed on more than two of 8 draws")
check(any(s["group"] == "all draws" and s["strategy"] == "adaptive" for s in d["summary"]),
      "summary per group")
sys.exit(0 if ok else 1)
PY
[[ $fail -eq 0 ]] && echo "zoo: ok"
exit $fail
