# Sourced by the shell tests: start_nginx DIR RATE BURST [plain] starts a
# real nginx on 127.0.0.1 (prefix DIR) whose /append is rate-limited with
# limit_req (429 + Retry-After: 1 over budget; with `plain`, limit_req as it
# comes: 503 without Retry-After; no burst when BURST is 0) and sets
# $nginx_port; nginx's access
# log ($DIR/access.log) has "<status> <msec>" per request. stop_nginx DIR.
# check_budget LOG LABEL checks a 10 requests/s budget on such a log.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

start_nginx() {
  local dir=$1 rate=$2 burst=$3 plain=${4:-}
  local limit="limit_req zone=api burst=$burst nodelay;
      limit_req_status 429;
      error_page 429 = @throttled;"
  ((burst > 0)) || limit="limit_req zone=api;
      limit_req_status 429;
      error_page 429 = @throttled;"
  if [[ $plain == plain ]]; then
    limit="limit_req zone=api;"
    ((burst > 0)) && limit="limit_req zone=api burst=$burst nodelay;"
  fi
  # Both ports asked of the kernel (the inner one too: a neighbour of a
  # free port may be some connection's), and nginx started again on new
  # ones when either could not be bound.
  local attempt inner
  for attempt in 1 2 3; do
  nginx_port=$(free_port)
  inner=$(free_port)
  [[ $inner != "$nginx_port" ]] || continue
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  log_format short '\$status \$msec';
  limit_req_zone \$server_port zone=api:1m rate=${rate}r/s;
  server {
    listen 127.0.0.1:$nginx_port;
    access_log $dir/access.log short;
    location /append {
      $limit
      proxy_pass http://127.0.0.1:$inner/ok;
    }
    location @throttled { add_header Retry-After 1 always; return 429 '{"message":"slow down"}'; }
  }
  server { listen 127.0.0.1:$inner; access_log off; location /ok { return 200 '{"ok":true}'; } }
}
CONF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
  local npid=$!
  if wait_for_port "$nginx_port" nginx "$dir/error.log" >/dev/null \
    && wait_for_port "$inner" nginx "$dir/error.log" >/dev/null; then
    return 0
  fi
  kill "$npid" 2>/dev/null
  wait "$npid" 2>/dev/null
  echo "nginx could not listen (attempt $attempt): $(tail -n 2 "$dir/error.log")"
  done
  return 1
}

# wait_for_port PORT NAME ERROR_LOG: up to 5 s for a server to listen.
wait_for_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$2 did not start: $(cat "$3")"
  return 1
}

stop_nginx() {
  kill "$(cat "$1/nginx.pid" 2>/dev/null)" 2>/dev/null
}

# wait_for_log DIR N: nginx logs a request after answering it.
wait_for_log() {
  for _ in $(seq 40); do
    [[ $(wc -l <"$1/access.log") -ge $2 ]] && return 0
    sleep 0.05
  done
}

# check_budget LOG LABEL: the budget of 10 requests/s (x 100 items) on an
# access log: prints the figures; fails on a throttle rate over 1%, goodput
# below 90% of the budget in seconds 1-9 after the first request, or more
# requests in a sliding window of W seconds than 10 W + 2. Per authority
# window the budget is exact (the property test), but nginx logs answer
# times and the windows are not the authority's: each edge of a sliding
# window may catch one request of timing jitter.
check_budget() {
  python3 - "$1" "$2" "$(dirname "${BASH_SOURCE[0]}")" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from access_log import peak
rows = [line.split() for line in open(sys.argv[1])]
ok = sorted(float(t) for s, t in rows if s == '200')
throttled = sum(1 for s, _ in rows if s == '429')
peak1, peak5 = peak(ok, 1.0), peak(ok, 5.0)
steady = [t for t in ok if ok[0] + 1 <= t <= ok[0] + 9]
goodput = len(steady) * 100 / 8
print(f"{sys.argv[2]}: {len(ok)} accepted, {throttled} throttled, most requests "
      f"in a sliding 1 s / 5 s: {peak1} / {peak5}, {goodput:.0f} items/s in "
      f"seconds 1-9 (budget 1000), {ok[-1] - ok[0]:.1f} s")
bad = []
if len(ok) < 100: bad.append("fewer than 100 accepted requests")
if throttled > 0.01 * len(rows): bad.append("throttle rate over 1%")
if peak1 > 12 or peak5 > 52: bad.append("more than the budget in a window")
if goodput < 900: bad.append("goodput below 90% of the budget")
if bad:
    print("FAIL: " + "; ".join(bad)); sys.exit(1)
PY
}
