#!/usr/bin/env bash
# `batching run` end to end: a real nginx (rate-limited) on 127.0.0.1, a
# file of operations drained into it, the final summary checked, and
# nginx's access log compared with what the summary claims.
#   run_command_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
# shellcheck source=nginx_env.sh
source "$(dirname "$0")/nginx_env.sh"
trap 'stop_nginx "$dir"; rm -rf "$dir"' EXIT
start_nginx "$dir" 20 5 || exit 1
for i in $(seq 1 3000); do echo "{\"title\":\"item $i\"}"; done >"$dir/ops.jsonl"
out=$("$bin" run --input "$dir/ops.jsonl" --target "http://127.0.0.1:$nginx_port/append" \
      --rate 20 --no-resources --timeout-seconds 60 2>&1)
rc=$?
echo "$out"
fail=0
[[ $rc -eq 0 ]] || { echo "FAIL: exit $rc"; fail=1; }
grep -qE '^batching run: 3000 succeeded, 0 failed, 0 cancelled of 3000 in ' <<<"$out" \
  || { echo "FAIL: summary"; fail=1; }
requests=$(grep -oE '; [0-9]+ requests' <<<"$out" | grep -oE '[0-9]+')
wait_for_log "$dir" "$requests"
logged=$(wc -l <"$dir/access.log")
[[ "$requests" == "$logged" ]] || { echo "FAIL: $requests requests reported, nginx logged $logged"; fail=1; }
ok=$(grep -c '^200 ' "$dir/access.log")
(( ok * 100 >= 3000 )) || { echo "FAIL: only $ok accepted requests for 3000 items"; fail=1; }
[[ $fail -eq 0 ]] && echo "run command: ok ($ok accepted requests)"
exit $fail
