#!/usr/bin/env bash
# The HTML report of `batching sim --report`: one self-contained page whose
# charts have time ticks, a grid, units, one line per strategy and type for
# batch size and queue, and values on hover (checked in headless Chromium:
# a mousemove over the first chart must show every strategy's value).
#   report_test.sh BATCHING_BINARY SOURCE_DIR
set -u
bin=${1:?binary}
src=${2:?source dir}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
"$bin" sim "$src/sim/scenarios/maritime_demo.yaml" --strategies adaptive,static \
  --no-oracle --quiet --report "$dir/r.html" \
  || { echo "FAIL: sim --report exited $?"; exit 1; }
for p in "time (s)</text>" "goodput (operations/s)</text>" \
         "batch size per type (operations/request)" \
         "operations queued per type (operations)" \
         "adaptive / write" "static / read" "stroke-dasharray='6 3'" \
         "data-lines=" "<script>"; do
  grep -qF -- "$p" "$dir/r.html" || { echo "FAIL: the report lacks '$p'"; fail=1; }
done
# Self-contained: nothing fetched from elsewhere.
grep -qE "(src|href)=['\"]https?:" "$dir/r.html" \
  && { echo "FAIL: the report loads something from the network"; fail=1; }
# Hover in a real browser.
if ! command -v chromium >/dev/null; then
  echo "FAIL: chromium is not installed (tools/setup.sh installs it)"; exit 1
fi
sed 's|</body></html>|<script>var s=document.querySelector("svg.chart");var b=s.getBoundingClientRect();s.dispatchEvent(new MouseEvent("mousemove",{clientX:b.left+b.width*0.5,clientY:b.top+50,bubbles:true}));</script></body></html>|' \
  "$dir/r.html" >"$dir/hover.html"
chromium --headless --disable-gpu --no-sandbox --dump-dom "file://$dir/hover.html" \
  2>/dev/null >"$dir/dom.html"
tip=$(sed -n '/id="tip"/,/<\/div>/p' "$dir/dom.html")
echo "$tip"
grep -q 'display: block' <<<"$tip" || { echo "FAIL: no tooltip on hover"; fail=1; }
grep -qE 't = [0-9]+ s' <<<"$tip" || { echo "FAIL: the tooltip names no time"; fail=1; }
grep -qE '^adaptive: [0-9.]+ operations/s' <<<"$tip" \
  && grep -qE '^static: [0-9.]+ operations/s' <<<"$tip" \
  || { echo "FAIL: the tooltip lacks a strategy's value"; fail=1; }
exit $fail
