#!/usr/bin/env bash
# `batching loadtest --target URL` against a real nginx (limit_req at 10
# requests/s, burst 10, 429 + Retry-After): the seed's phases through the
# runtime, its load generator actors and its HTTP executor; one run with
# the configured strategy and one static batch size. Checks the exit code,
# the JSON (the seed's fields, per type, a verdict per performance target,
# the best configuration), that nginx received what the runtime says
# succeeded, and the HTML report.
#   loadtest_target_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
# shellcheck source=nginx_env.sh
source "$(dirname "$0")/nginx_env.sh"
trap 'stop_nginx "$dir"; rm -rf "$dir"' EXIT
start_nginx "$dir" 10 10 || { echo "FAIL: nginx did not start"; exit 1; }
fail=0
"$bin" loadtest --target "http://127.0.0.1:$nginx_port/append" --duration 8 \
  --users 4 --ops-per-user 150 --spike 3 --rate 8 --batch-sizes 25 \
  --mix write=0.6,read=0.4 --json --report "$dir/r.html" >"$dir/out.json" 2>"$dir/err"
rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: loadtest exited $rc"; cat "$dir/err"; fail=1; }
python3 - "$dir/out.json" "$dir/access.log" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("FAIL:", what); ok = False
check(d["target"].endswith("/append"), "target")
runs = d["runs"]
check(len(runs) == 2, "one run with the strategy, one static")
check(runs[1]["name"].endswith("(static batch 25)"), "static run named")
for r in runs:
    for k in ("total_operations", "succeeded", "failed", "throttled",
              "operations_per_second", "success_rate", "latency_ms", "per_type",
              "performance_targets", "requests"):
        check(k in r, "%s lacks %s" % (r["name"], k))
    check(r["total_operations"] > 500, "%s: %d operations" % (r["name"], r["total_operations"]))
    check(r["succeeded"] == r["total_operations"] and r["failed"] == 0 and r["unfinished"] == 0,
          "%s: every operation succeeded" % r["name"])
    types = {t["op_type"]: t for t in r["per_type"]}
    check(set(types) == {"read", "write"}, "per type")
    check(types["write"]["succeeded"] > types["read"]["succeeded"], "the 60/40 mix")
    keys = [v["key"] for v in r["performance_targets"]]
    check(len(keys) == 8 and "p99_response_time_ms" in keys, "a verdict per target")
    statuses = {v["key"]: v["status"] for v in r["performance_targets"]}
    check(statuses["stability_percent"] == "pass", "stability")
    check(statuses["resource_efficiency_percent"] == "not_measured", "n/a")
check(d["best_configuration"] in [r["name"] for r in runs], "best configuration")
check(any(x.startswith("best configuration: ") for x in d["recommendations"]),
      "recommendations name the best configuration")
# nginx saw at least the requests the runtime counted as answered.
lines = open(sys.argv[2]).read().split("\n")
accepted = sum(1 for l in lines if l.startswith("200 "))
requests = sum(r["requests"] for r in runs)
throttled = sum(r["throttled"] for r in runs)
check(accepted == requests - throttled,
      "nginx accepted %d requests, the runtime counted %d" % (accepted, requests - throttled))
sys.exit(0 if ok else 1)
PY
grep -q "time (s)</text>" "$dir/r.html" && grep -q "(static batch 25) / write" "$dir/r.html" \
  || { echo "FAIL: the report lacks its charts"; fail=1; }
"$bin" loadtest --rate 3 2>"$dir/err2"
[[ $? -eq 2 ]] && grep -q -- "--rate goes with --target" "$dir/err2" \
  || { echo "FAIL: --rate without --target must exit 2"; fail=1; }
"$bin" loadtest --target "http://127.0.0.1:$nginx_port/append" --mix delete=1 2>"$dir/err3"
[[ $? -eq 2 ]] && grep -q "unknown operation type 'delete'" "$dir/err3" \
  || { echo "FAIL: an unknown type in --mix must exit 2"; fail=1; }
exit $fail
