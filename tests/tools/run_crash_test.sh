#!/usr/bin/env bash
# `batching run` survives kill -9: CYCLES times (default 20) a run over N
# operations (default 60,000) is started against a backend that records
# every id it accepts (record_server.py) and killed at a random moment
# (fixed seed); the same command then finishes the rest. Checks: the final
# run exits 0; every id reached the backend at least once; duplicates stay
# within what can be in flight at each kill (4 connections x 100 items);
# some run said it resumed. Then: the same input to another target and a
# changed input are refused (exit 2), --fresh sends everything again, and a
# corrupt journal is a clear error.
#   run_crash_test.sh BATCHING_BINARY [CYCLES] [N]
set -uo pipefail
bin=${1:?usage: run_crash_test.sh BATCHING_BINARY [CYCLES] [N]}
cycles=${2:-20}
n=${3:-60000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "run_crash_test: FAIL: $*" >&2; exit 1; }

python3 -c "
import sys
with open('$dir/ops.jsonl', 'w') as f:
    for i in range(1, $n + 1):
        f.write('{\"id\": %d, \"payload\": {\"n\": %d}}\n' % (i, i))"
python3 "$here/record_server.py" "$dir/port" "$dir/received.log" &
server=$!
for _ in $(seq 100); do [[ -s $dir/port ]] && break; sleep 0.1; done
[[ -s $dir/port ]] || fail "the recording backend did not start"
port=$(cat "$dir/port")
args=(run --input "$dir/ops.jsonl" --target "http://127.0.0.1:$port/"
      --body-template '{"ids": {{ids}}}' --rate 30 --no-resources)
run() { "$bin" "${args[@]}" "$@"; }

RANDOM=20261130 # the kill moments: random, the same on every run
for i in $(seq "$cycles"); do
  "$bin" "${args[@]}" > "$dir/run$i.log" 2>&1 & # $! is the binary itself
  pid=$!
  sleep "$((RANDOM % 13 / 10 + 0)).$((RANDOM % 10))" # 0.0-1.9 s
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  received=$(wc -l < "$dir/received.log")
  echo "cycle $i: killed; backend holds $received ids"
done
run > "$dir/final.log" 2>&1
rc=$?
cat "$dir/final.log"
[[ $rc -eq 0 ]] || fail "the final run exited $rc"
grep -q "resuming from" "$dir"/run*.log "$dir/final.log" \
  || fail "no run said it resumed"
python3 - "$dir/received.log" "$n" "$cycles" <<'PY' || exit 1
import collections, sys
path, n, cycles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
counts = collections.Counter(int(x) for x in open(path) if x.strip())
missing = [i for i in range(1, n + 1) if counts[i] == 0]
extra = sum(c - 1 for c in counts.values() if c > 1)
unknown = [i for i in counts if not 1 <= i <= n]
bound = cycles * 4 * 100
print(f"ids received {sum(counts.values())}, distinct {len(counts)} of {n}, "
      f"duplicates {extra} (bound {bound})")
if missing:
    sys.exit(f"run_crash_test: FAIL: {len(missing)} ids never reached the "
             f"backend, e.g. {missing[:5]}")
if unknown:
    sys.exit(f"run_crash_test: FAIL: unknown ids {unknown[:5]}")
if extra > bound:
    sys.exit(f"run_crash_test: FAIL: {extra} duplicates > {bound}")
PY

# Done: the same command has nothing left to send.
run > "$dir/again.log" 2>&1 || fail "a rerun of a finished input failed"
grep -q "nothing left to send" "$dir/again.log" || fail "a rerun sent again"
# The same input sent elsewhere is another run: refused with this journal.
"$bin" run --input "$dir/ops.jsonl" --target http://127.0.0.1:1/ \
  --body-template '{"ids": {{ids}}}' --no-resources > "$dir/other.log" 2>&1
rc=$?
cat "$dir/other.log"
[[ $rc -eq 2 ]] || fail "another target: exit $rc, expected 2"
grep -q "another target" "$dir/other.log" || fail "no 'another target'"
# A changed input is refused, and --fresh starts over.
echo '{"id": 999999999, "payload": {}}' >> "$dir/ops.jsonl"
run > "$dir/changed.log" 2>&1
rc=$?
cat "$dir/changed.log"
[[ $rc -eq 2 ]] || fail "a changed input: exit $rc, expected 2"
grep -q "input changed" "$dir/changed.log" || fail "no 'input changed'"
before=$(wc -l < "$dir/received.log")
run --fresh > "$dir/fresh.log" 2>&1 || fail "--fresh failed"
after=$(wc -l < "$dir/received.log")
[[ $((after - before)) -ge $((n + 1)) ]] \
  || fail "--fresh sent $((after - before)) ids, expected $((n + 1))"
# A corrupt journal is a clear error naming it.
head -c 8192 /dev/urandom > "$dir/bad.journal"
run --journal "$dir/bad.journal" > "$dir/bad.log" 2>&1
rc=$?
cat "$dir/bad.log"
[[ $rc -eq 2 ]] || fail "a corrupt journal: exit $rc, expected 2"
grep -q "bad.journal" "$dir/bad.log" || fail "the error does not name it"
echo "run_crash_test: ok"
