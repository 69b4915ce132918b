#!/usr/bin/env bash
# Three processes share one request budget (docs/deployment.md): a budget
# authority (`batching node --role authority`) and two members (`batching
# run --join`) drain jobs into one real nginx whose limit_req is the budget
# (10 requests/s). Checked on nginx's own access log (check_budget in
# nginx_env.sh): every operation succeeded, no 429, no sliding window over
# the budget beyond edge jitter, goodput within 10% of budget x 100 items
# while both run. For contrast, the same two members without the authority
# overrun it. Then the authority is killed and restarted: a member rejoins.
#   cluster_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
# shellcheck source=nginx_env.sh
source "$(dirname "$0")/nginx_env.sh"
auth_pid=
trap '[[ -n $auth_pid ]] && kill $auth_pid 2>/dev/null; stop_nginx "$dir"; rm -rf "$dir"' EXIT
start_nginx "$dir" 10 5 || exit 1
printf 'backends:\n  default:\n    initial_requests_per_second: 10\n' >"$dir/budget.yaml"
for i in $(seq 1 6000); do echo "{\"title\":\"item $i\"}"; done >"$dir/ops.jsonl"
"$bin" node --role authority --listen 127.0.0.1:0 --plain-tcp --config "$dir/budget.yaml" >"$dir/auth.out" 2>&1 &
auth_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$dir/auth.out" 2>/dev/null && break; sleep 0.05; done
auth=$(grep -oE '127\.0\.0\.1:[0-9]+' "$dir/auth.out" | head -1)
[[ -n $auth ]] || { echo "FAIL: authority did not start: $(cat "$dir/auth.out")"; exit 1; }
echo "authority at $auth"

drain() { # drain LABEL [--join ADDR --node NAME]
  local label=$1; shift
  # Two members send the same file at once, by design: no journal.
  "$bin" run --input "$dir/ops.jsonl" --target "http://127.0.0.1:$nginx_port/append" \
    --rate 10 --no-resources --timeout-seconds 120 --no-journal "$@" >"$dir/$label.out" 2>&1
}
fail=0
drain w1 --join "$auth" --node w1 --plain-tcp & p1=$!
drain w2 --join "$auth" --node w2 --plain-tcp & p2=$!
wait $p1 || { echo "FAIL: worker 1 exit $?"; fail=1; }
wait $p2 || { echo "FAIL: worker 2 exit $?"; fail=1; }
tail -n1 "$dir/w1.out" "$dir/w2.out"
wait_for_log "$dir" 120
cp "$dir/access.log" "$dir/shared.log"
# both members run from the first request until the first one ends (~12 s)
check_budget "$dir/shared.log" "shared budget" || fail=1
grep -q '6000 succeeded, 0 failed' "$dir/w1.out" && grep -q '6000 succeeded, 0 failed' "$dir/w2.out" \
  || { echo "FAIL: not every operation succeeded"; fail=1; }

# Contrast: the same workers, each pacing alone.
: >"$dir/access.log"
drain s1 & p1=$!
drain s2 & p2=$!
wait $p1; wait $p2
wait_for_log "$dir" 120
alone=$(grep -c '^429 ' "$dir/access.log")
echo "without the authority: $alone requests throttled"

# The authority is killed and restarted on its address: the member leases
# on its fallback share meanwhile, then rejoins (and finishes everything).
cat "$dir/ops.jsonl" "$dir/ops.jsonl" >"$dir/ops12.jsonl"
"$bin" run --input "$dir/ops12.jsonl" --target "http://127.0.0.1:$nginx_port/append" \
  --rate 10 --no-resources --timeout-seconds 120 --join "$auth" --node r1 --plain-tcp \
  >"$dir/r1.out" 2>&1 & p1=$!
sleep 3
kill -9 "$auth_pid"; wait "$auth_pid" 2>/dev/null
sleep 1
"$bin" node --role authority --listen "$auth" --plain-tcp --config "$dir/budget.yaml" \
  >"$dir/auth2.out" 2>&1 &
auth_pid=$!
wait $p1 || { echo "FAIL: the member exited with $? across the restart"; fail=1; }
tail -n1 "$dir/r1.out"
if grep -q 'r1 joined' "$dir/auth2.out"; then
  echo "the member rejoined the restarted authority"
else
  echo "FAIL: the member did not rejoin: $(cat "$dir/auth2.out")"; fail=1
fi
grep -q '12000 succeeded, 0 failed' "$dir/r1.out" || { echo "FAIL: not every operation succeeded"; fail=1; }
[[ $fail -eq 0 ]] && echo "cluster: ok"
exit $fail
