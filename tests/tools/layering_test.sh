#!/usr/bin/env bash
# The policy layer (runtime/policy) is pure: it includes only the standard
# library and itself, and never reads a clock, sleeps or spawns threads.
# design.md §2 and the developers' guide; this test fails with the offending
# lines.
set -u
root=${1:?usage: layering_test.sh SOURCE_DIR}
cd "$root" || exit 1
status=0
bad_includes=$(grep -rnE '^\s*#\s*include\s*[<"]' runtime/policy \
  | grep -vE '#\s*include\s*"runtime/policy/' \
  | grep -vE '#\s*include\s*<[a-z_]+>' )
if [[ -n "$bad_includes" ]]; then
  echo "runtime/policy includes something other than the standard library:"
  echo "$bad_includes"
  status=1
fi
impure=$(grep -rnE '(system_clock|steady_clock|high_resolution_clock)::now|std::thread|sleep_for|sleep_until|std::random_device|getenv' runtime/policy)
if [[ -n "$impure" ]]; then
  echo "runtime/policy reads a clock, the environment or spawns threads:"
  echo "$impure"
  status=1
fi
# Messages, config and policies must not include actors, the embedding
# layer, sim or tools; actors must not include the embedding layer, sim or
# tools.
upward=$( (grep -rnE '#\s*include\s*"(actors|runtime/system|sim|tools)/' runtime/policy messages config;
           grep -rnE '#\s*include\s*"(runtime/system|sim|tools)/' actors) 2>/dev/null)
if [[ -n "$upward" ]]; then
  echo "a lower layer includes a higher one:"
  echo "$upward"
  status=1
fi
[[ $status -eq 0 ]] && echo "layering: ok"
exit $status
