# Sourced by the shell tests: start_haproxy DIR QUOTA PERIOD [OPTION,...]
# starts a real HAProxy on 127.0.0.1 in front of an API that answers 200
# to everything, rate-limited as HAProxy's documentation shows: a stick
# table tracks every request's http_req_rate over PERIOD (a sliding
# window; rejected requests count too) and denies with 429 above QUOTA.
# Options: `retry-after` (the 429 carries Retry-After: 1), `headers` (every
# answer carries the IETF draft's RateLimit-Policy: q=QUOTA;w=PERIOD and
# RateLimit: r=what the table has left; HAProxy cannot say when a sliding
# window resets, so no t). Sets
# $haproxy_port; its log ($DIR/access.log) has "<status> <seconds.ms>" per
# request, as nginx_env.sh's. stop_haproxy DIR.
# shellcheck source=nginx_env.sh
source "$(dirname "${BASH_SOURCE[0]}")/nginx_env.sh"

start_haproxy() {
  local dir=$1 quota=$2 period=$3 options=",${4:-},"
  local hdr="" advertise=""
  [[ $options == *,retry-after,* ]] && hdr=" hdr Retry-After 1"
  [[ $options == *,headers,* ]] && advertise="http-after-response set-header RateLimit-Policy '\"default\";q=$quota;w=$period'
  http-after-response set-header RateLimit '\"default\";r=%[sc_http_req_rate(0),neg,add($quota)]'"
  haproxy_port=$(free_port)
  cat >"$dir/haproxy.cfg" <<CONF
global
  maxconn 512
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  log stdout format raw local0
frontend api
  bind 127.0.0.1:$haproxy_port
  log-format "%ST %Ts.%ms"
  stick-table type integer size 1k expire 60s store http_req_rate(${period}s)
  http-request track-sc0 dst_port
  http-request deny deny_status 429$hdr if { sc_http_req_rate(0) gt $quota }
  http-request return status 200 content-type application/json string '{"ok":true}'
  $advertise
CONF
  haproxy -c -q -f "$dir/haproxy.cfg" || return 1
  haproxy -db -f "$dir/haproxy.cfg" >"$dir/access.log" 2>"$dir/haproxy.err" &
  echo $! >"$dir/haproxy.pid"
  wait_for_port "$haproxy_port" haproxy "$dir/haproxy.err"
}

stop_haproxy() {
  kill "$(cat "$1/haproxy.pid" 2>/dev/null)" 2>/dev/null
}
