#!/usr/bin/env bash
# Regenerates the key table of docs/configuration.md from the schema
# (`batching config keys`); tests/config/emit_test.cpp fails until it is run
# after a key changes.  Usage: tools/update_docs.sh [BATCHING_BINARY]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/batching}
table=$("$bin" config keys)
python3 - "$root/docs/configuration.md" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
lines = open(path).read().split('\n')
start = next(i for i, l in enumerate(lines) if l.startswith('| key | type |'))
end = start
while end < len(lines) and lines[end].startswith('|'):
    end += 1
lines[start:end] = table.rstrip('\n').split('\n')
open(path, 'w').write('\n'.join(lines))
PY
echo "docs/configuration.md: key table regenerated"
