#!/usr/bin/env bash
# Items/s across nodes (docs/benchmarks.md "Across nodes"): a coordinator
# node alone, then with 1 and 2 worker nodes, drains 3 jobs of 10,000
# operations into a backend that answers each request after 50 ms, with
# one connection and one request in flight per node (an executor whose own
# connection limit bounds one machine). Plain TCP on loopback.
#   tools/cluster_bench.sh [BATCHING_BINARY] [WORKERS_MAX]
set -u
bin=${1:-build/batching}
max=${2:-2}
dir=$(mktemp -d)
trap 'pkill -P $$ 2>/dev/null; kill $server_pid 2>/dev/null; rm -rf "$dir"' EXIT
cat >"$dir/slow.py" <<'PY'
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(0.05)
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
cat >"$dir/drive.py" <<'PY'
import json, sys, time, urllib.request
api, n, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def call(m, p, b=None):
    r = urllib.request.Request(api + p, method=m,
                               data=None if b is None else json.dumps(b).encode(),
                               headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(r, timeout=30).read())
t0 = time.time()
ids = [call("POST", "/v1/jobs", {"type": "write", "operations":
        [{"id": j * n + i + 1, "payload": {"n": i}} for i in range(n)]})["job_id"]
       for j in range(jobs)]
while True:
    st = [call("GET", f"/v1/jobs/{i}") for i in ids]
    if all(s["status"] not in ("running", "waiting") for s in st):
        break
    time.sleep(0.05)
dt = time.time() - t0
ok = sum(s["succeeded"] for s in st)
print(f"{ok} succeeded in {dt:.1f} s: {ok / dt:.0f} items/s")
PY
python3 "$dir/slow.py" >"$dir/port" & server_pid=$!
for _ in $(seq 50); do [[ -s $dir/port ]] && break; sleep 0.1; done
cat >"$dir/bench.yaml" <<YAML
operation_configs:
  write:
    strategy: adaptive
backends:
  default:
    initial_requests_per_second: 0   # no shared budget: the backend's latency bounds each node
    max_in_flight: 1
    http:
      url: http://127.0.0.1:$(cat "$dir/port")/append
      max_connections: 1
YAML
for workers in $(seq 0 "$max"); do
  "$bin" node --role coordinator --listen 127.0.0.1:0 --http 127.0.0.1:0 --plain-tcp \
    --no-resources --config "$dir/bench.yaml" >"$dir/coord.out" 2>&1 & coord=$!
  for _ in $(seq 100); do grep -q 'listening on http' "$dir/coord.out" && break; sleep 0.05; done
  cluster=$(grep -oE 'authority on 127\.0\.0\.1:[0-9]+' "$dir/coord.out" | grep -oE '127.*')
  api=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$dir/coord.out")
  pids=()
  for i in $(seq "$workers"); do
    "$bin" node --role worker --join "$cluster" --plain-tcp --no-resources \
      --config "$dir/bench.yaml" >"$dir/w$i.out" 2>&1 & pids+=($!)
    for _ in $(seq 100); do grep -q 'worker joined' "$dir/w$i.out" && break; sleep 0.05; done
  done
  echo "coordinator + $workers worker(s): $(python3 "$dir/drive.py" "$api" 10000 3)"
  kill "${pids[@]}" 2>/dev/null; kill $coord; wait $coord 2>/dev/null
done
