#!/usr/bin/env bash
# fuzz_configs.sh STRATO SOURCE_DIR [CASES]: mutated configs never crash strato.
# Takes the shipped configs, applies 1-4 random edits each (insert a token, delete a span, replace a
# span) from a fixed seed, and runs `strato check` on the result. Every case must exit 0 or 2, and a 2
# must come with a "FILE:LINE: " diagnostic. Deterministic: bash's RANDOM is seeded.
set -u
strato=$1
src=$2
cases=${3:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RANDOM=20261130
# the cloud example includes the catalog relative to itself: point that at the source tree
sed "s|@include \"../catalog/|@include \"$src/configs/catalog/|" "$src/configs/examples/az-outage.cfg" > "$work/cloud.cfg"
bases=("$src/configs/default.cfg" "$src/tests/cli/tiny.cfg" "$work/cloud.cfg")
tokens=('"' ';' '{' '}' '(' ')' '[' ']' '=' ',' '-1' '0' '1e400' '"-5ms"' '"xyz"' '@include "x.cfg"'
        'true' '"0s"' '99999999999' '0x10' '"1e9d"' '""' 'servers' 'cores' '"jsq"' $'\n' '#' '/*' '"$5"')
passed=0 failed=0
for ((i = 0; i < cases; i++)); do
  text=$(<"${bases[RANDOM % ${#bases[@]}]}")
  for ((e = 0; e < 1 + RANDOM % 4; e++)); do
    pos=$(( (RANDOM * 32768 + RANDOM) % ${#text} ))
    tok=${tokens[RANDOM % ${#tokens[@]}]}
    case $((RANDOM % 3)) in
      0) text=${text:0:pos}$tok${text:pos} ;;
      1) text=${text:0:pos}${text:pos+1+RANDOM%10} ;;
      2) text=${text:0:pos}$tok${text:pos+1+RANDOM%6} ;;
    esac
  done
  printf '%s\n' "$text" > "$work/case.cfg"
  err=$("$strato" check "$work/case.cfg" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 0 ] || { [ $rc -eq 2 ] && grep -q "^$work/case.cfg:[0-9]*: " <<<"$err"; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    cp "$work/case.cfg" "$work/../strato-fuzz-failure-$i.cfg"
    echo "FAIL case $i: exit $rc (kept as ${TMPDIR:-/tmp}/strato-fuzz-failure-$i.cfg)"; sed 's/^/     | /' <<<"$err" | head -5
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
