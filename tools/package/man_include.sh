#!/usr/bin/env bash
# The man page's COMMANDS section for help2man: every command's --help,
# read from the binary (the one text users see).
#   man_include.sh BATCHING_BINARY > commands.h2m
set -eu
bin=$1
echo "[COMMANDS]"
"$bin" --help | awk '/^Commands:/{on=1;next} on && /^  batching /{sub(/^  batching /,""); split($0,a,"  "); print a[1]}' |
while read -r cmd; do
  echo ".SS batching $cmd"
  echo ".nf"
  # shellcheck disable=SC2086
  "$bin" $cmd --help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./'
  echo ".fi"
done
echo "[FILES]"
echo "/etc/batching/batching_config.yaml, resource_thresholds.yaml, performance_targets.yaml: the configuration (docs/configuration.md)."
echo ".br"
echo "/etc/default/batching: the services' arguments; /var/lib/batching: their journals."
