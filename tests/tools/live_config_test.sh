#!/usr/bin/env bash
# Live changes on a running `batching serve`: PATCH /v1/config (bearer
# token) changes a type's strategy, max concurrent jobs and a backend's
# declared rate; `batching config show --url` prints them; a key that is
# not live is refused whole (409) and a bad value is a 400 naming the
# patch's line and column.
#   live_config_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
dir=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail=0
cat >"$dir/api.yaml" <<'YAML'
backends:
  default:
    http: {url: "http://127.0.0.1:9/append", headers: {Authorization: "Bearer backend-secret"}}
server: {token: s3cret}
YAML
"$bin" serve --config "$dir/api.yaml" --listen 127.0.0.1:0 --no-resources \
  --no-journal >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$dir/out" | head -1)
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { echo "FAIL: serve did not start"; cat "$dir/err"; exit 1; }
patch() {
  curl -s -o "$dir/body" -w '%{http_code}' -X PATCH -H 'Authorization: Bearer s3cret' \
    -H 'Content-Type: application/json' --data "$1" "$url/v1/config"
}
code=$(patch '{"operation_configs":{"write":{"strategy":"static"}},"coordinator":{"max_concurrent_jobs":4},"backends":{"default":{"initial_requests_per_second":7}}}')
[[ $code == 200 ]] && grep -q '"operation_configs.write.strategy"' "$dir/body" \
  || { echo "FAIL: PATCH answered $code: $(cat "$dir/body")"; fail=1; }
grep -q 'live change: operation_configs.write.strategy: "adaptive" -> "static"' "$dir/err" \
  || { echo "FAIL: the change is not logged"; cat "$dir/err"; fail=1; }
"$bin" config show --url "$url" --token s3cret >"$dir/show" 2>&1
rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: config show --url exited $rc"; cat "$dir/show"; fail=1; }
grep -q 'strategy: static' "$dir/show" && grep -q 'max_concurrent_jobs: 4' "$dir/show" \
  && grep -q 'initial_requests_per_second: 7' "$dir/show" \
  || { echo "FAIL: config show --url lacks the changes"; cat "$dir/show"; fail=1; }
grep -q 'backend-secret\|s3cret' "$dir/show" \
  && { echo "FAIL: config show --url prints a secret"; fail=1; }
BATCHING_SERVER_TOKEN=wrong "$bin" config show --url "$url" >/dev/null 2>"$dir/show_err"
[[ $? -eq 1 ]] && grep -q 'HTTP 401' "$dir/show_err" \
  || { echo "FAIL: a wrong token must exit 1 naming HTTP 401"; fail=1; }
code=$(patch '{"backends":{"default":{"max_in_flight":9}}}')
[[ $code == 409 ]] && grep -q 'need a restart' "$dir/body" \
  || { echo "FAIL: a key that is not live answered $code: $(cat "$dir/body")"; fail=1; }
code=$(patch '{"coordinator":{"max_concurrent_jobs":0}}')
[[ $code == 400 ]] && grep -q 'PATCH /v1/config:1:' "$dir/body" \
  || { echo "FAIL: a bad value answered $code: $(cat "$dir/body")"; fail=1; }
exit $fail
