#!/usr/bin/env bash
# The `batching` CLI as users run it: exit codes, where output goes, and
# that every command answers --help.
#   cli_test.sh BATCHING_BINARY FIXTURE_DIR SOURCE_DIR
set -u
bin=${1:?binary}
fixtures=${2:?fixture dir}
src=${3:?source dir}
failures=0
passed=0

# expect NAME EXPECTED_RC PATTERN(stdout+stderr, extended regex) -- CMD...
expect() {
  local name=$1 want_rc=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc -ne $want_rc ]]; then
    echo "FAIL $name: exit $rc, expected $want_rc"; echo "$out" | head -20
    failures=$((failures + 1)); return
  fi
  if ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output does not match /$pattern/"; echo "$out" | head -20
    failures=$((failures + 1)); return
  fi
  passed=$((passed + 1))
}

expect top_help 0 'batching config check' -- "$bin" --help
expect no_command 2 'Commands:' -- "$bin"
expect unknown_command 2 "unknown command 'frobnicate'" -- "$bin" frobnicate
expect group_listing 0 'batching config show' -- "$bin" config --help
for cmd in "config check" "config show" "config keys" "bench overhead" \
           "bench sweep" "sim" "loadtest" "demo" "serve" "run" "node"; do
  # shellcheck disable=SC2086
  expect "help_${cmd// /_}" 0 "^Usage: batching $cmd" -- "$bin" $cmd --help
done
expect check_shipped 0 'batching_config.yaml: ok' -- \
  "$bin" config check "$src/config/batching_config.yaml" \
  "$src/config/resource_thresholds.yaml" "$src/config/performance_targets.yaml"
# A batch size above what the backend takes in one request: a warning with
# the ceiling in force (not an error), and the same in config show.
expect check_ceiling 0 'warning: operation_configs.write.max_batch_size: 500 exceeds backends.default.max_items_per_request \(100\): a batch is one request, so write batches carry at most 100' -- \
  "$bin" config check "$src/config/batching_config.yaml"
expect show_ceiling 0 '^# effective: operation_configs.write.max_batch_size: 500 exceeds' -- \
  "$bin" config show --config-dir "$src/config"
expect check_no_files 2 'expects at least one FILE' -- "$bin" config check
expect check_malformed 2 'malformed.yaml:3:14: error: malformed YAML: illegal map value' -- \
  "$bin" config check "$fixtures/malformed.yaml"
expect check_many 2 '^5 errors$' -- "$bin" config check "$fixtures/many_errors.yaml"
expect check_unknown_key 2 "unknown_key.yaml:2:3: error: unknown key 'max_bacth_size' in batching; did you mean 'max_batch_size'\?" -- \
  "$bin" config check "$fixtures/unknown_key.yaml"
expect check_missing 2 'cannot read file' -- "$bin" config check /nonexistent.yaml
expect show_defaults 0 'strategy: adaptive' -- \
  "$bin" config show --config-dir "$src/config"
expect show_why 0 '^# strategy adaptive \(the default for read and write\)' -- \
  "$bin" config show --config-dir "$src/config"
expect show_env 0 'max_batch_size: 1000' -- \
  "$bin" config show --config-dir "$src/config" --env production
expect show_env_var 0 'max_concurrent_jobs: 4' -- \
  env BATCHING_ENV=development "$bin" config show --config-dir "$src/config"
expect show_unknown_env 2 "unknown environment 'prod'; did you mean 'production'\?" -- \
  "$bin" config show --config-dir "$src/config" --env prod
expect show_json 0 '"max_error_rate": 0.05' -- \
  "$bin" config show --config-dir "$src/config" --json
expect show_bad_option 2 "unknown option '--bogus'" -- "$bin" config show --bogus
expect show_missing_value 2 "option '--env' needs a value" -- "$bin" config show --env
expect keys 0 '^\| `batching.min_batch_size` \| integer \| 10 \|' -- "$bin" config keys

expect bench_json 0 '"pipeline_items_per_s": [0-9]' -- \
  "$bin" bench overhead --items 20000 --json
expect sim_json_fields 0 '"goodput_vs_oracle"' -- \
  "$bin" sim "$src/sim/scenarios/notion_low_traffic.yaml" --strategies adaptive \
  --no-oracle --quiet --json /dev/stdout
expect bench_sweep 0 'best configuration: ' -- \
  "$bin" bench sweep "$src/sim/scenarios/notion_low_traffic.yaml" --batch-sizes 10,100
expect bench_bad_items 2 "--items must be >= 1000" -- \
  "$bin" bench overhead --items 10

scenario="$src/sim/scenarios/notion_low_traffic.yaml"
expect sim_table 0 '^adaptive .* yes +0 +0' -- \
  "$bin" sim "$scenario" --strategies adaptive,static --no-oracle
expect sim_bad_file 2 'bad_scenario.yaml:4:9: error: backend.kind: unknown kind' -- \
  "$bin" sim "$src/tests/sim/fixtures/bad_scenario.yaml"
expect sim_bad_strategy 2 "unknown strategy 'fastest'" -- \
  "$bin" sim "$scenario" --strategies fastest
expect sim_ab 0 'static vs adaptive .*: inconclusive' -- \
  "$bin" sim "$scenario" --ab static,adaptive
expect sim_ab_bad 2 '--ab takes CONTROL,TEST' -- "$bin" sim "$scenario" --ab adaptive
expect sim_no_file 2 'expected one scenario file' -- "$bin" sim
expect loadtest_json 0 '"per_type"' -- \
  "$bin" loadtest --duration 2 --users 2 --ops-per-user 20 --json
expect loadtest_bad 2 'take whole numbers' -- "$bin" loadtest --users many

# stdout carries only the configuration, so it can be piped and read back.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" config show --config-dir "$src/config" --env production >"$tmp/effective.yaml" 2>/dev/null
expect show_reloads 0 'effective.yaml: ok' -- "$bin" config check "$tmp/effective.yaml"

# serve and run: bad input is refused before anything starts.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'backends:\n  default:\n    http:\n      url: ftp://x\n      body_template: "{{nope}}"\nserver:\n  listen: nowhere\n' >"$tmp/bad_http.yaml"
expect check_bad_http 2 'bad_http.yaml:4:12: error: backends.default.http.url: invalid URL .ftp://x.: expected http:// or https://' -- \
  "$bin" config check "$tmp/bad_http.yaml"
expect check_bad_template 2 'backends.default.http.body_template: unknown placeholder \{\{nope\}\}' -- \
  "$bin" config check "$tmp/bad_http.yaml"
expect check_bad_listen 2 'server.listen: expected HOST:PORT' -- \
  "$bin" config check "$tmp/bad_http.yaml"
expect serve_no_url 2 "backend 'default' has no http.url" -- \
  "$bin" serve --config-dir "$src/config" --no-resources
expect serve_bad_listen 2 "--listen: expected HOST:PORT" -- \
  "$bin" serve --config-dir "$src/config" --listen 8080
expect serve_two_journals 2 "--journal and --no-journal exclude each other" -- \
  "$bin" serve --config-dir "$src/config" --journal "$tmp/j" --no-journal
expect serve_bad_sync 2 "--journal-sync: expected full or normal, got 'sometimes'" -- \
  "$bin" serve --config-dir "$src/config" --journal-sync sometimes
printf 'journal:\n  sync: always\n' >"$tmp/bad_journal.yaml"
expect check_bad_journal_sync 2 'bad_journal.yaml:2:9: error: journal.sync: unknown' -- \
  "$bin" config check "$tmp/bad_journal.yaml"
printf '{"a":1}\n{"a":2,}\n' >"$tmp/ops.jsonl"
expect run_no_input 2 '--input FILE.jsonl is required' -- "$bin" run --target http://127.0.0.1:1/
expect run_bad_line 2 'malformed JSON in .*ops.jsonl:2, column 8' -- \
  "$bin" run --input "$tmp/ops.jsonl" --target http://127.0.0.1:1/
printf '{"a":1}\n' >"$tmp/one.jsonl"
expect run_bad_target 2 "invalid URL 'localhost:1'" -- \
  "$bin" run --input "$tmp/one.jsonl" --target localhost:1

expect node_no_role 2 '--role is required' -- "$bin" node
expect node_bad_role 2 "unknown --role 'member'" -- "$bin" node --role member
expect node_positional 2 "batching node: unexpected argument 'extra'" -- "$bin" node extra
expect serve_positional 2 "batching serve: unexpected argument 'extra'" -- "$bin" serve extra
expect node_worker_no_join 2 'a worker needs --join HOST:PORT' -- "$bin" node --role worker --plain-tcp
expect node_bad_listen 2 '--listen: expected HOST:PORT' -- "$bin" node --role authority --listen 4100
expect node_needs_tls 2 'TLS between nodes needs a certificate, its key and the CA' -- \
  "$bin" node --role authority
expect node_tls_unreadable 2 "cannot read the TLS certificate '/nonexistent.pem'" -- \
  "$bin" node --role authority --tls-cert /nonexistent.pem --tls-key /x --tls-ca /y
expect node_plain_only_loopback 2 'plain TCP between nodes is for loopback testing only' -- \
  "$bin" node --role authority --plain-tcp --listen 0.0.0.0:4100
expect run_join_needs_tls 1 'TLS between nodes needs a certificate' -- \
  "$bin" run --input "$tmp/one.jsonl" --target http://127.0.0.1:1/ --join 127.0.0.1:1
expect run_join_refused 1 'cannot join the cluster at 127.0.0.1:1: ' -- \
  "$bin" run --input "$tmp/one.jsonl" --target http://127.0.0.1:1/ --join 127.0.0.1:1 --plain-tcp

# batching check: a pass, a failure with its counterexample (which `sim`
# replays: the SLO is missed there too), bad arguments.
steady="$src/sim/scenarios/notion_steady.yaml"
expect check_passes 0 'check notion_steady: 3 cases passed \(seed 5\)' -- \
  "$bin" check "$steady" --cases 3 --seed 5 --quiet
expect check_fails 1 'FAILED after [0-9]+ passing cases \(seed 1\): adaptive: item latency p99 [0-9]+ ms, over the SLO' -- \
  "$bin" check "$steady" --cases 20 --seed 1 --slo --quiet --out "$tmp/cx.yaml"
expect check_replays 0 'adaptive .* NO ' -- "$bin" sim "$tmp/cx.yaml" --no-oracle
expect check_prints_yaml 1 '^strategies: \[adaptive\]' -- \
  "$bin" check "$steady" --cases 20 --seed 1 --slo --quiet
expect check_bad_cases 2 '--cases takes a whole number from 1 to 100000' -- \
  "$bin" check "$steady" --cases 0
expect check_bad_strategy 2 "unknown strategy 'fastest'" -- \
  "$bin" check "$steady" --strategies fastest
expect check_no_file 2 'expected one scenario file' -- "$bin" check
expect check_bad_scenario 2 'cannot read file' -- "$bin" check /nonexistent.yaml

echo "$passed passed, $failures failed"
[[ $failures -eq 0 ]]
