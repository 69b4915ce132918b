#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` in the build directory, then its
# control data (Depends computed from the shared libraries, the maintainer
# scripts, conffiles), its file list (binary, library, headers, the
# configuration under /etc/batching, systemd units, man page, bash
# completion), the units through `systemd-analyze verify` where it exists,
# and the packaged binary's --version.
#   package_test.sh BUILD_DIR
set -u
build=${1:?build dir}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
(cd "$build" && cpack -G DEB -B "$dir/out" >"$dir/cpack.log" 2>&1) \
  || { echo "FAIL: cpack"; cat "$dir/cpack.log"; exit 1; }
deb=$(ls "$dir"/out/batching_*.deb 2>/dev/null | head -1)
[[ -f $deb ]] || { echo "FAIL: no .deb"; ls -R "$dir/out"; exit 1; }
dpkg-deb --info "$deb" >"$dir/info"
cat "$dir/info"
for dep in adduser libcaf-core0.17 libcaf-io0.17 libyaml-cpp0.7 libsqlite3-0 libssl3 libboost-json1.81.0; do
  grep -E "^ Depends:.*\b$dep\b" "$dir/info" >/dev/null || { echo "FAIL: Depends lacks $dep"; fail=1; }
done
grep -qE "^ Suggests:.*\blibcaf-dev\b" "$dir/info" || { echo "FAIL: Suggests lacks libcaf-dev"; fail=1; }
for f in postinst prerm postrm conffiles; do
  grep -qE "^ +[0-9]+ bytes,.* $f" "$dir/info" || { echo "FAIL: control lacks $f"; fail=1; }
done
dpkg-deb -c "$deb" | awk '{print $6}' >"$dir/files"
for f in ./usr/bin/batching ./usr/lib/libbatching.a ./usr/lib/pkgconfig/batching.pc \
         ./usr/include/batching/batching.hpp ./usr/lib/cmake/batching/batchingConfig.cmake \
         ./usr/include/batching/runtime/system/runtime_actors.hpp \
         ./usr/lib/cmake/batching/FindCAF.cmake \
         ./etc/batching/batching_config.yaml ./etc/default/batching \
         ./usr/lib/systemd/system/batching-serve.service \
         ./usr/lib/systemd/system/batching-node.service \
         ./usr/share/man/man1/batching.1.gz \
         ./usr/share/bash-completion/completions/batching; do
  grep -qx -- "$f" "$dir/files" || { echo "FAIL: the package lacks $f"; fail=1; }
done
grep -qE '^\./usr/lib/libbatching\.so\.[0-9]+\.[0-9]+$' "$dir/files" \
  || { echo "FAIL: the package lacks libbatching.so.MAJOR.MINOR"; fail=1; }
mkdir -p "$dir/root"
dpkg-deb -x "$deb" "$dir/root"
dpkg-deb -e "$deb" "$dir/control"
grep -q '^/etc/batching/batching_config.yaml$' "$dir/control/conffiles" \
  || { echo "FAIL: the configuration is no conffile"; fail=1; }
grep -q 'adduser --system' "$dir/control/postinst" || { echo "FAIL: postinst makes no user"; fail=1; }
"$dir/root/usr/bin/batching" --version | grep -qE '^batching [0-9]+\.[0-9]+\.[0-9]+$' \
  || { echo "FAIL: the packaged binary's --version"; fail=1; }
zcat "$dir/root/usr/share/man/man1/batching.1.gz" | grep -q '^.SS batching serve' \
  || { echo "FAIL: the man page lacks the commands"; fail=1; }
for u in batching-serve batching-node; do
  unit=$dir/root/usr/lib/systemd/system/$u.service
  for key in User=batching NoNewPrivileges=yes PrivateTmp=yes ProtectSystem=strict StateDirectory=batching; do
    grep -qx "$key" "$unit" || { echo "FAIL: $u lacks $key"; fail=1; }
  done
  if command -v systemd-analyze >/dev/null; then
    sed "s|/usr/bin/batching|$dir/root/usr/bin/batching|" "$unit" >"$dir/$u.service"
    systemd-analyze verify --man=no "$dir/$u.service" >"$dir/verify.log" 2>&1 \
      || { echo "FAIL: systemd-analyze verify $u"; cat "$dir/verify.log"; fail=1; }
  fi
done
[[ $fail -eq 0 ]] && echo "package: ok ($(wc -l <"$dir/files") entries)"
exit $fail
