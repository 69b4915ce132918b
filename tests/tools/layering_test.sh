#!/usr/bin/env bash
# The policy layer (runtime/policy) is pure: it includes only the standard
# library and itself, and never reads a clock, sleeps or spawns threads;
# lower layers never include higher ones; Dlib and Boost.Math stay in the
# .cpp files of runtime/model and runtime/stats; SQLite in runtime/storage.
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
           grep -rnE '#\s*include\s*"(runtime/system|runtime/http|sim|tools)/' actors;
           grep -rnE '#\s*include\s*"(runtime/http|sim|tools)/' runtime/system;
           grep -rnE '#\s*include\s*"(actors|messages|config|runtime/(system|http|model|stats)|sim|tools)/' runtime/storage) 2>/dev/null)
if [[ -n "$upward" ]]; then
  echo "a lower layer includes a higher one:"
  echo "$upward"
  status=1
fi
# Dlib stays behind the model layer's plain interface (design.md §2): only
# the .cpp files of runtime/model include it; Boost.Math only runtime/stats.
# only_in LIBRARY_PREFIX FOLDER: fails on an include of it anywhere else.
only_in() {
  local found
  found=$(grep -rnE "#\s*include\s*<$1" --include='*.hpp' --include='*.cpp' \
            actors config messages runtime sim tools tests \
          | grep -vE "^$2/[a-z_]+\.cpp:")
  if [[ -n "$found" ]]; then
    echo "<$1...> is included outside $2/*.cpp:"
    echo "$found"
    status=1
  fi
}
only_in dlib/ runtime/model
only_in boost/math/ runtime/stats
# Beast and Asio (the HTTP layer's I/O) stay in runtime/http's .cpp files.
only_in boost/beast runtime/http
only_in boost/asio runtime/http
# SQLite (the journals' storage) stays in runtime/storage's .cpp files.
only_in sqlite3 runtime/storage
[[ $status -eq 0 ]] && echo "layering: ok"
exit $status
