#!/usr/bin/env bash
# The README's sanitizer build, as written (no build type given), configures
# and compiles, and the quick labels pass under ASan + UBSan (unit: every
# suite; actor: actors_test; property: the topology's exactly-once
# property), with the tests of what parses untrusted input: the policies
# (rate-limit headers, HTTP mapping, job accounting), the configuration
# loader, the journals and the protocol's wire checks (messages_test); the
# actors (actors_test) and the job journal across a restart on CAF's
# threaded scheduler (journal_runtime); the HTTP layer compiled with -Werror
# and its request reader (Boost.Beast's parser, http_reading). The whole suite
# under sanitizers: README, Development.
#   sanitizer_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?usage: sanitizer_test.sh SOURCE_DIR BUILD_DIR}
dir=${2:?usage: sanitizer_test.sh SOURCE_DIR BUILD_DIR}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$dir" -G Ninja -DBATCHING_SANITIZE=ON "${launcher[@]}" >/dev/null
type=$(grep '^CMAKE_BUILD_TYPE:' "$dir/CMakeCache.txt" | cut -d= -f2)
echo "sanitizer build type: $type"
cmake --build "$dir" -j "$(nproc)" \
  --target policy_test config_test storage_test messages_test model_test \
  actors_test topology_property_test runtime_test http_test
export UBSAN_OPTIONS="suppressions=$src/tools/ubsan.supp:halt_on_error=1:print_stacktrace=1"
# RapidCheck's fixed seed, as CTest gives the other tests (reproducible).
export RC_PARAMS=${RC_PARAMS:-seed=20261129}
runs=(policy_test config_test storage_test messages_test model_test
      actors_test topology_property_test
      "runtime_test --gtest_filter=journal_runtime.*"
      "http_test --gtest_filter=http_reading.*")
# As many suites at once as there are cores (actors_test, the longest,
# first), each into its own log, shown when it fails.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() {
  local rc=0
  # shellcheck disable=SC2086
  (cd "$dir/tests" && ./$1 --gtest_brief=1) >"$logs/$2.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$2.rc"
}
order=(5 4 0 1 2 3 6 7 8)
for i in "${order[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do wait -n; done
  run "${runs[$i]}" "$i" &
done
wait
status=0
for i in "${order[@]}"; do
  if [[ $(cat "$logs/$i.rc" 2>/dev/null) != 0 ]]; then
    echo "sanitizer_test: ${runs[$i]} FAILED"
    cat "$logs/$i.log"
    status=1
  fi
done
((status == 0)) && echo "sanitizer_test: ok"
exit $status
