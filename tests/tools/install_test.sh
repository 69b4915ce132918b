#!/usr/bin/env bash
# The installed package as a host sees it: `cmake --install` into a fresh
# prefix; the layout (binary, shared library with its versioned SONAME,
# static archive, headers under include/batching without CAF, the CMake
# package, batching.pc, the configuration files); then the out-of-tree host
# example (tools/host_example) configured with find_package(batching),
# built and run, and the same program built with pkg-config alone; then the
# opt-in `actors` component: refused with a clear message while absent;
# once installed each of its headers compiles alone and the host example's
# CAF program (actors_example) builds and runs.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -u
build=${1:?build dir}
src=${2:?source dir}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
prefix=$dir/prefix
fail=0
cmake --install "$build" --prefix "$prefix" >"$dir/install.log" 2>&1 \
  || { echo "FAIL: cmake --install"; cat "$dir/install.log"; exit 1; }
version=$("$build/batching" --version | awk '{print $2}')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "FAIL: batching --version: '$version'"; fail=1; }
libdir=$prefix/lib
[[ -d $prefix/lib64 && ! -d $libdir ]] && libdir=$prefix/lib64
for f in bin/batching include/batching/batching.hpp \
         include/batching/runtime/system/runtime.hpp \
         include/batching/runtime/policy/version.hpp \
         include/batching/runtime/http/http_executor.hpp \
         "${libdir#"$prefix"/}/libbatching.a" \
         "${libdir#"$prefix"/}/libbatching.so.$version" \
         "${libdir#"$prefix"/}/cmake/batching/batchingConfig.cmake" \
         "${libdir#"$prefix"/}/cmake/batching/batchingConfigVersion.cmake" \
         "${libdir#"$prefix"/}/cmake/batching/batchingTargets.cmake" \
         "${libdir#"$prefix"/}/pkgconfig/batching.pc" \
         etc/batching/batching_config.yaml etc/batching/resource_thresholds.yaml \
         etc/batching/performance_targets.yaml; do
  [[ -e $prefix/$f ]] || { echo "FAIL: the install lacks $f"; fail=1; }
done
soname=$(readelf -d "$libdir/libbatching.so.$version" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
major_minor=${version%.*}
[[ $soname == "libbatching.so.$major_minor" ]] || { echo "FAIL: SONAME '$soname'"; fail=1; }
[[ -L $libdir/libbatching.so && -L $libdir/libbatching.so.$major_minor ]] \
  || { echo "FAIL: the library's symlinks"; fail=1; }
if grep -rlE '#\s*include\s*[<"]caf/' "$prefix/include" >"$dir/caf"; then
  echo "FAIL: installed headers include CAF:"; cat "$dir/caf"; fail=1
fi
"$prefix/bin/batching" --version | grep -q "^batching $version$" \
  || { echo "FAIL: the installed binary's --version"; fail=1; }
# The host example, out of tree, through find_package.
cmake -S "$src/tools/host_example" -B "$dir/host" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$dir/host.log" 2>&1 && cmake --build "$dir/host" >>"$dir/host.log" 2>&1 \
  || { echo "FAIL: the host example did not build"; cat "$dir/host.log"; fail=1; }
out=$("$dir/host/host_example" 2>&1)
[[ $? -eq 0 && $out == "batching $version: 1000 of 1000 operations succeeded" ]] \
  || { echo "FAIL: the host example: $out"; fail=1; }
# The same with pkg-config.
PKG_CONFIG_PATH=$libdir/pkgconfig c++ "$src/tools/host_example/main.cpp" \
  $(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs batching) \
  -Wl,-rpath,"$libdir" -o "$dir/pc_host" 2>"$dir/pc.log" \
  || { echo "FAIL: pkg-config build"; cat "$dir/pc.log"; fail=1; }
[[ -x $dir/pc_host ]] && { "$dir/pc_host" | grep -q "1000 of 1000" \
  || { echo "FAIL: the pkg-config build's run"; fail=1; }; }
[[ -e $dir/host/actors_example ]] && { echo "FAIL: actors_example built without the actors component"; fail=1; }
# The actors component: asked for while absent, a clear refusal.
mkdir -p "$dir/ask"
cat >"$dir/ask/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(ask LANGUAGES CXX)
find_package(batching 0.1 REQUIRED COMPONENTS actors)
CM
cmake -S "$dir/ask" -B "$dir/ask/b" -DCMAKE_PREFIX_PATH="$prefix" >"$dir/ask.log" 2>&1 \
  && { echo "FAIL: COMPONENTS actors found without its headers"; fail=1; }
grep -q "component actors" "$dir/ask.log" \
  || { echo "FAIL: the refusal does not say how to install the component"; cat "$dir/ask.log"; fail=1; }
cmake --install "$build" --prefix "$prefix" --component actors >"$dir/actors.log" 2>&1 \
  || { echo "FAIL: cmake --install --component actors"; cat "$dir/actors.log"; fail=1; }
caf_include=$(sed -n 's/^CAF_INCLUDE_DIR:PATH=//p' "$build/CMakeCache.txt")
boost_cflags=$(PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags batching)
n=0
while IFS= read -r h; do
  n=$((n + 1))
  echo "#include <${h#"$prefix/include/"}>" |
    c++ -std=c++20 -fsyntax-only -x c++ - -I"$prefix/include" -I"$prefix/include/batching" \
      ${caf_include:+-I"$caf_include"} $boost_cflags 2>"$dir/h.log" \
    || { echo "FAIL: $h does not compile alone"; head -5 "$dir/h.log"; fail=1; }
done < <(sed -n 's/^-- Installing: \(.*\.hpp\)$/\1/p' "$dir/actors.log")
[[ $n -ge 8 ]] || { echo "FAIL: only $n actor headers"; fail=1; }
cmake "$dir/host" >>"$dir/host.log" 2>&1 && cmake --build "$dir/host" >>"$dir/host.log" 2>&1 \
  || { echo "FAIL: the host example with actors did not build"; cat "$dir/host.log"; fail=1; }
out=$("$dir/host/actors_example" 2>&1)
[[ $? -eq 0 && $out == "batching $version via CAF: job 1, 500 of 500 operations succeeded, 2 batchers on the dashboard" ]] \
  || { echo "FAIL: actors_example: $out"; fail=1; }
[[ $fail -eq 0 ]] && echo "install: ok ($prefix: $(find "$prefix" -type f | wc -l) files)"
exit $fail
