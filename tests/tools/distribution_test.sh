#!/usr/bin/env bash
# Work spread over nodes, over TLS (docs/deployment.md): a coordinator node
# (budget authority + coordinator + its own batchers) and two worker nodes
# drain jobs into one real nginx whose limit_req is the budget (10
# requests/s). Certificates come from a CA made here with openssl.
#   1. a node whose certificate is self-signed (not by the CA), and a node
#      without TLS, are refused;
#   2. kill -9 of a worker mid-run: every operation still ends exactly once
#      in the ledger (all succeeded, no ledger violation), its work moved;
#   3. SIGSTOP of a worker: lost within the peer timeout (2 s) plus the
#      heartbeat, its work moved, all jobs complete; woken up, it drops
#      what it held and rejoins the coordinator as a new node;
#   4. nginx's access log: no window over the budget, goodput near budget x
#      100 items;
#   5. kill -9 of the coordinator mid-run, restarted on its addresses with
#      its journal: the worker rejoins it, the jobs it had acknowledged
#      (same ids) all complete.
#   distribution_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
# shellcheck source=nginx_env.sh
source "$(dirname "$0")/nginx_env.sh"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  stop_nginx "$dir"
  [[ -n ${KEEP_TEST_DIR:-} ]] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT
start_nginx "$dir" 10 5 || exit 1

# -- certificates --------------------------------------------------------------
cert() { # cert NAME: a key and a certificate signed by the test CA
  openssl req -newkey rsa:2048 -nodes -keyout "$dir/$1.key" -out "$dir/$1.csr" \
    -subj "/CN=$1" 2>/dev/null &&
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/$1.pem" -days 1 2>/dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" \
  -days 1 -subj /CN=batching-test-ca 2>/dev/null || { echo "FAIL: openssl"; exit 1; }
for n in coord w1 w2 w3; do cert $n || { echo "FAIL: openssl $n"; exit 1; }; done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/rogue.key" -out "$dir/rogue.pem" \
  -days 1 -subj /CN=rogue 2>/dev/null
tls() { echo --tls-cert "$dir/$1.pem" --tls-key "$dir/$1.key" --tls-ca "$dir/ca.pem"; }

# adaptive sizing from full batches, as `batching run` does
cat >"$dir/cluster.yaml" <<YAML
operation_configs:
  write:
    strategy: adaptive
backends:
  default:
    initial_requests_per_second: 10
    http:
      url: http://127.0.0.1:$nginx_port/append
YAML

wait_line() { # wait_line FILE PATTERN [COUNT]: COUNT (1) such lines, up to 10 s
  for _ in $(seq 200); do
    [[ $(grep -c "$2" "$1" 2>/dev/null) -ge ${3:-1} ]] && return 0; sleep 0.05
  done
  return 1
}
# shellcheck disable=SC2046
"$bin" node --role coordinator --listen 127.0.0.1:0 --http 127.0.0.1:0 --no-resources \
  --config "$dir/cluster.yaml" --node coord --journal "$dir/coord.journal" \
  $(tls coord) >"$dir/coord.out" 2>&1 &
pids+=($!)
wait_line "$dir/coord.out" 'listening on http' || { echo "FAIL: coordinator: $(cat "$dir/coord.out")"; exit 1; }
cluster=$(grep -oE 'authority on 127\.0\.0\.1:[0-9]+' "$dir/coord.out" | grep -oE '127.*')
api=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$dir/coord.out")
echo "coordinator at $cluster, API at $api"

worker() { # worker NAME
  # shellcheck disable=SC2046
  "$bin" node --role worker --join "$cluster" --node "$1" --no-resources \
    --config "$dir/cluster.yaml" $(tls "$1") >"$dir/$1.out" 2>&1 &
  pids+=($!)
  eval "${1}_pid=$!"
  echo $! >"$dir/$1.pid"
  wait_line "$dir/$1.out" 'worker joined' || { echo "FAIL: $1: $(cat "$dir/$1.out")"; exit 1; }
}
fail=0

# -- 1. refused peers ------------------------------------------------------------
# shellcheck disable=SC2046
timeout 20 "$bin" node --role worker --join "$cluster" --node rogue --no-resources \
  --config "$dir/cluster.yaml" --tls-cert "$dir/rogue.pem" --tls-key "$dir/rogue.key" \
  --tls-ca "$dir/ca.pem" >"$dir/rogue.out" 2>&1
rc=$?
if [[ $rc -ne 1 ]] || ! grep -q 'cannot join the cluster' "$dir/rogue.out"; then
  echo "FAIL: a self-signed node was not refused (exit $rc): $(cat "$dir/rogue.out")"; fail=1
else
  echo "self-signed node refused: $(head -c 160 "$dir/rogue.out")"
fi
timeout 20 "$bin" node --role worker --join "$cluster" --node plain --no-resources \
  --config "$dir/cluster.yaml" --plain-tcp >"$dir/plain.out" 2>&1
rc=$?
if [[ $rc -ne 1 ]]; then
  echo "FAIL: a node without TLS was not refused (exit $rc): $(cat "$dir/plain.out")"; fail=1
fi

worker w1
worker w2

# The API: submit, then poll.
python3 - "$api" "$dir" "$$" <<'PY' || fail=1
import json, os, signal, sys, time, urllib.request
api, d = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())
def submit(jobs, size, base):
    ids = []
    for j in range(jobs):
        ops = [{"id": base + j * size + i, "payload": {"n": i}} for i in range(size)]
        ids.append(call("POST", "/v1/jobs", {"type": "write", "operations": ops})["job_id"])
    return ids
def board():
    return call("GET", "/v1/dashboard")["coordinator_status"]
def wait_jobs(ids, limit):
    t0 = time.time()
    while time.time() - t0 < limit:
        st = [call("GET", f"/v1/jobs/{i}") for i in ids]
        if all(s["status"] != "running" and s["status"] != "waiting" for s in st):
            return st
        time.sleep(0.2)
    return [call("GET", f"/v1/jobs/{i}") for i in ids]
def pid_of(name):
    return int(open(f"{d}/{name}.pid").read())
bad = []

# -- 2. kill -9 of a worker mid-run ----------------------------------------------
t0 = time.time()
ids = submit(3, 6000, 1)
time.sleep(4)
os.kill(pid_of("w1"), signal.SIGKILL)
killed_at = time.time()
st = wait_jobs(ids, 120)
span = time.time() - t0
c = board()
ok = sum(s["succeeded"] for s in st)
print(f"kill -9: {ok}/18000 succeeded, "
      f"{sum(s['failed'] + s['cancelled'] for s in st)} failed or cancelled in {span:.1f} s; "
      f"lost nodes {c['lost_nodes']}, stale reports dropped {c['stale_events']}, "
      f"ledger violations {c['ledger_violations']}")
if ok != 18000 or any(s["status"] != "completed" for s in st):
    bad.append("not every operation succeeded after kill -9")
if c["ledger_violations"] != 0: bad.append("ledger violations")
if c["lost_nodes"] != 1: bad.append("the killed worker was not noticed")

# -- 3. SIGSTOP of a worker -------------------------------------------------------
ids = submit(2, 6000, 100000)
time.sleep(3)
os.kill(pid_of("w2"), signal.SIGSTOP)
stopped_at = time.time()
noticed = None
while time.time() - stopped_at < 15:
    if board()["lost_nodes"] >= 2:
        noticed = time.time() - stopped_at
        break
    time.sleep(0.1)
st = wait_jobs(ids, 120)
ok = sum(s["succeeded"] for s in st)
c = board()
print(f"SIGSTOP: noticed after {noticed if noticed is None else round(noticed, 1)} s, "
      f"{ok}/12000 succeeded, ledger violations {c['ledger_violations']}, "
      f"stale reports dropped {c['stale_events']}")
if noticed is None or noticed > 4: bad.append("the frozen worker was not noticed within 4 s")
if ok != 12000: bad.append("not every operation succeeded after SIGSTOP")
if c["ledger_violations"] != 0: bad.append("ledger violations after SIGSTOP")
os.kill(pid_of("w2"), signal.SIGCONT)
if bad:
    print("FAIL: " + "; ".join(bad)); sys.exit(1)
PY
# The woken worker finds itself dropped, stops what it held and rejoins.
if wait_line "$dir/w2.out" 'worker rejoined'; then
  echo "woken worker: $(grep 'rejoined' "$dir/w2.out")"
else
  echo "FAIL: the woken worker did not rejoin: $(cat "$dir/w2.out")"; fail=1
fi
kill -0 "$w2_pid" 2>/dev/null || { echo "FAIL: the woken worker exited"; fail=1; }

# -- 4. the budget, from nginx's log ---------------------------------------------
check_budget "$dir/access.log" budget || fail=1

# -- 5. kill -9 of the coordinator, restarted with its journal -------------------
coord_pid=${pids[0]}
cport=${cluster##*:}
hport=${api##*:}
python3 - "$api" "$dir" >"$dir/step5a.out" 2>&1 <<'PY' || { cat "$dir/step5a.out"; fail=1; }
import json, sys, urllib.request
api, d = sys.argv[1], sys.argv[2]
ids = []
for j in range(2):
    ops = [{"id": 200000 + j * 6000 + i, "payload": {"n": i}} for i in range(6000)]
    req = urllib.request.Request(api + "/v1/jobs", method="POST",
                                 data=json.dumps({"type": "write", "operations": ops}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        ids.append(json.loads(r.read())["job_id"])
open(f"{d}/restart_ids", "w").write(" ".join(map(str, ids)))
PY
sleep 3
kill -9 "$coord_pid"
wait "$coord_pid" 2>/dev/null
wait_line "$dir/w2.out" 'lost the coordinator' 2 || { echo "FAIL: the worker did not notice"; fail=1; }
sleep 1
# shellcheck disable=SC2046
"$bin" node --role coordinator --listen "127.0.0.1:$cport" --http "127.0.0.1:$hport" \
  --no-resources --config "$dir/cluster.yaml" --node coord \
  --journal "$dir/coord.journal" $(tls coord) >"$dir/coord2.out" 2>&1 &
pids+=($!)
wait_line "$dir/coord2.out" 'listening on http' || { echo "FAIL: restarted coordinator: $(cat "$dir/coord2.out")"; exit 1; }
python3 - "$api" "$dir" <<'PY' || fail=1
import json, sys, time, urllib.request
api, d = sys.argv[1], sys.argv[2]
ids = open(f"{d}/restart_ids").read().split()
def get(path):
    with urllib.request.urlopen(api + path, timeout=10) as r:
        return json.loads(r.read())
t0, rejoined, st = time.time(), None, []
while time.time() - t0 < 120:
    c = get("/v1/dashboard")["coordinator_status"]
    if rejoined is None and c["worker_nodes"] >= 1:
        rejoined = time.time() - t0
    st = [get(f"/v1/jobs/{i}") for i in ids]
    if rejoined is not None and all(s["status"] not in ("running", "waiting") for s in st):
        break
    time.sleep(0.2)
ok = sum(s["succeeded"] for s in st)
c = get("/v1/dashboard")["coordinator_status"]
print(f"coordinator restart: worker back after {rejoined if rejoined is None else round(rejoined, 1)} s, "
      f"{ok}/12000 of the acknowledged jobs' operations succeeded, "
      f"worker nodes {c['worker_nodes']}, ledger violations {c['ledger_violations']}")
bad = []
if rejoined is None: bad.append("the worker did not rejoin the restarted coordinator")
if ok != 12000 or any(s["status"] != "completed" for s in st):
    bad.append("not every acknowledged operation succeeded after the restart")
if c["ledger_violations"] != 0: bad.append("ledger violations after the restart")
if bad:
    print("FAIL: " + "; ".join(bad)); sys.exit(1)
PY
[[ $(grep -c 'worker rejoined' "$dir/w2.out") -ge 2 ]] \
  || { echo "FAIL: w2 did not rejoin the restarted coordinator: $(cat "$dir/w2.out")"; fail=1; }
[[ $fail -eq 0 ]] && echo "distribution: ok"
exit $fail
