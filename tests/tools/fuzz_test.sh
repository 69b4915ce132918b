#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in a
# tree of their own and runs each for SECONDS (default 20) from its seed
# corpus (tests/fuzz/corpus; the YAML loader's is the shipped configuration
# and the test fixtures). Fails on any crash, hang (10 s per input), leak,
# sanitizer report or memory over 2 GB, printing the input that did it.
# A fixed -seed makes the mutations the same on every run (how many runs fit
# in SECONDS still varies with the machine). As many targets fuzz at once as
# there are cores, each on one.
#   fuzz_test.sh SOURCE_DIR BUILD_DIR [SECONDS]
set -uo pipefail
src=${1:?usage: fuzz_test.sh SOURCE_DIR BUILD_DIR [SECONDS]}
dir=${2:?usage: fuzz_test.sh SOURCE_DIR BUILD_DIR [SECONDS]}
seconds=${3:-20}
command -v clang++ >/dev/null || { echo "fuzz_test: clang++ missing (tools/setup.sh installs it)"; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CXX=clang++ CC=clang cmake -S "$src" -B "$dir" -G Ninja -DBATCHING_FUZZ=ON \
  -DBATCHING_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
targets=(yaml_loader job_json rate_limit_headers http_request caf_message)
cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/%/_fuzz}" || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One target's run: its corpus, SECONDS of fuzzing, its exit code in
# $work/$t.rc (each run is single-threaded, so nproc of them run at once).
fuzz() {
  local t=$1
  mkdir -p "$work/$t"
  if [[ $t == yaml_loader ]]; then
    cp "$src"/config/*.yaml "$src"/tests/config/fixtures/*.yaml "$work/$t/"
  else
    cp "$src/tests/fuzz/corpus/$t"/* "$work/$t/"
  fi
  "$dir/${t}_fuzz" -seed=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/${t}-" "$work/$t" >"$work/$t.log" 2>&1
  echo $? >"$work/$t.rc"
}

slots=$(nproc)
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= slots)); do wait -n; done
  fuzz "$t" &
done
wait

status=0
for t in "${targets[@]}"; do
  rc=$(cat "$work/$t.rc" 2>/dev/null || echo 1)
  runs=$(grep -oE 'Done [0-9]+ runs' "$work/$t.log" | tail -1)
  if [[ $rc -ne 0 ]]; then
    echo "fuzz_test: $t FAILED (exit $rc)"
    tail -40 "$work/$t.log"
    for a in "$work/${t}"-*; do
      [[ -f $a ]] && { echo "input $a:"; od -c "$a" | head -20; }
    done
    status=1
  else
    echo "fuzz_test: $t ok ($runs in ${seconds} s)"
  fi
done
exit $status
