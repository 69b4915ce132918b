#!/usr/bin/env bash
# `batching run` end to end: a real nginx (rate-limited) on 127.0.0.1, a
# file of operations drained into it, the final summary checked, and
# nginx's access log compared with what the summary claims.
#   run_command_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
trap 'kill $(cat "$dir/nginx.pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
       || echo $((20000 + RANDOM % 20000)))
inner=$((port + 1))
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
  log_format short '\$status';
  limit_req_zone \$server_port zone=api:1m rate=20r/s;
  server {
    listen 127.0.0.1:$port;
    access_log $dir/access.log short;
    location /append {
      limit_req zone=api burst=5 nodelay;
      limit_req_status 429;
      error_page 429 = @throttled;
      proxy_pass http://127.0.0.1:$inner/ok;
    }
    location @throttled { add_header Retry-After 1 always; return 429 '{"message":"slow down"}'; }
  }
  server { listen 127.0.0.1:$inner; access_log off; location /ok { return 200 '{"ok":true}'; } }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.05
done
for i in $(seq 1 3000); do echo "{\"title\":\"item $i\"}"; done >"$dir/ops.jsonl"
out=$("$bin" run --input "$dir/ops.jsonl" --target "http://127.0.0.1:$port/append" \
      --rate 20 --no-resources --timeout-seconds 60 2>&1)
rc=$?
echo "$out"
fail=0
[[ $rc -eq 0 ]] || { echo "FAIL: exit $rc"; fail=1; }
grep -qE '^batching run: 3000 succeeded, 0 failed, 0 cancelled of 3000 in ' <<<"$out" \
  || { echo "FAIL: summary"; fail=1; }
requests=$(grep -oE '; [0-9]+ requests' <<<"$out" | grep -oE '[0-9]+')
# nginx logs a request after answering it: give the last lines a moment.
for _ in $(seq 40); do
  logged=$(wc -l <"$dir/access.log")
  [[ "$requests" == "$logged" ]] && break
  sleep 0.05
done
[[ "$requests" == "$logged" ]] || { echo "FAIL: $requests requests reported, nginx logged $logged"; fail=1; }
ok=$(grep -c '^200$' "$dir/access.log")
(( ok * 100 >= 3000 )) || { echo "FAIL: only $ok accepted requests for 3000 items"; fail=1; }
[[ $fail -eq 0 ]] && echo "run command: ok ($ok accepted requests)"
exit $fail
