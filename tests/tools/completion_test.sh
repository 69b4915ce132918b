#!/usr/bin/env bash
# `batching completion`: bash completes command words and, for every
# command `batching --help` lists, every option that command's --help names
# (one source of truth: both come from the same texts).
#   completion_test.sh BATCHING_BINARY
set -u
bin=${1:?binary}
fail=0
script=$("$bin" completion) || { echo "FAIL: batching completion exited $?"; exit 1; }
# shellcheck disable=SC1090
source <(printf '%s\n' "$script")
complete_line() { # WORDS... : COMPREPLY for the last word
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _batching
  printf '%s\n' "${COMPREPLY[@]}"
}
expect() { # DESCRIPTION WANTED -- WORDS...
  local what=$1 want=$2; shift 3
  complete_line "$@" | grep -qx -- "$want" \
    || { echo "FAIL: $what: '$*' does not offer '$want'"; fail=1; }
}
expect "top level" config -- batching con
expect "a group" show -- batching config sh
expect "options" --strategies -- batching sim x.yaml --str
expect "--version" --version -- batching --vers
# Every command and every option its --help names.
commands=$("$bin" --help | awk '/^Commands:/{on=1;next} on && /^  batching /{sub(/^  batching /,""); split($0,a,"  "); print a[1]}')
[[ -n $commands ]] || { echo "FAIL: no commands in --help"; exit 1; }
n=0
while read -r cmd; do
  [[ -z $cmd ]] && continue
  read -ra words <<<"$cmd"
  prefix=("batching")
  for w in "${words[@]}"; do
    expect "command '$cmd'" "$w" -- "${prefix[@]}" "${w:0:2}"
    prefix+=("$w")
  done
  for opt in $("$bin" "${words[@]}" --help | grep -oE '(^|[ [|])--[a-z][a-z0-9-]*' | sed 's/^[ [|]//' | sort -u); do
    expect "$cmd" "$opt" -- "${prefix[@]}" "$opt"
    n=$((n + 1))
  done
done <<<"$commands"
[[ $fail -eq 0 ]] && echo "completion: ok ($(wc -l <<<"$commands") commands, $n options)"
exit $fail
