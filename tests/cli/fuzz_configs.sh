#!/usr/bin/env bash
# fuzz_configs.sh STRATO SOURCE_DIR [CASES]: mutated configs and traces never crash strato.
# Takes the shipped configs, applies 1-4 random edits each (insert a token, delete a span, replace a
# span) from a fixed seed, and runs `strato check` on the result. Every case must exit 0 or 2, and a 2
# must come with a "FILE:LINE: " diagnostic. One case in four mutates a trace file instead (a
# timestamps CSV with a class and a value column), read by a fixed config; its diagnostics may name
# the trace. Deterministic: bash's RANDOM is seeded.
set -u
strato=$1
src=$2
cases=${3:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RANDOM=20261130
# the examples include the catalog and read traces relative to themselves (libconfig 1.5 resolves
# even an absolute @include against the study's folder): give the work folder links to both
ln -s "$(cd "$src" && pwd)/configs/catalog" "$work/catalog"
ln -s "$(cd "$src" && pwd)/configs/traces" "$work/traces"
sed "s|\"\.\./catalog/|\"catalog/|" "$src/configs/examples/az-outage.cfg" > "$work/cloud.cfg"
sed -e "s|\"\.\./catalog/|\"catalog/|" -e "s|\"\.\./traces/|\"traces/|" "$src/configs/examples/nasa95.cfg" > "$work/nasa.cfg"
bases=("$src/configs/default.cfg" "$src/tests/cli/tiny.cfg" "$work/cloud.cfg" "$work/nasa.cfg")
trace_text=$'t,model,tokens\n2023-11-16 18:15:46.6805900,chat,44\n2023-11-16 18:15:50.99,code,109\n2023-11-16 18:16:01,chat,7\n'
cat > "$work/trace.cfg" <<EOF
study: { horizon = "1h"; };
workload: {
  arrivals: { process = "trace"; demand_per_value = "1ms";
              trace: { file = "trace.csv"; format = "timestamps_csv"; time_column = "t"; class_column = "model";
                       value_column = "tokens"; time_zone = "+1h"; }; };
  classes = ( { name = "chat"; cpu = { dist = "exponential"; mean = "10ms"; }; },
              { name = "code"; cpu = { dist = "exponential"; mean = "30ms"; }; } );
};
designs = ( { name = "a"; kind = "onprem"; servers = 1; } );
EOF
tokens=('"' ';' '{' '}' '(' ')' '[' ']' '=' ',' '-1' '0' '1e400' '"-5ms"' '"xyz"' '@include "x.cfg"'
        'true' '"0s"' '99999999999' '0x10' '"1e9d"' '""' 'servers' 'cores' '"jsq"' $'\n' '#' '/*' '"$5"')
passed=0 failed=0
for ((i = 0; i < cases; i++)); do
  if ((i % 4 == 3)); then  # a mutated trace
    text=$trace_text cfg=$work/trace.cfg target=$work/trace.csv diag="^$work/(trace.cfg|trace.csv):[0-9]*: "
  else
    text=$(<"${bases[RANDOM % ${#bases[@]}]}") cfg=$work/case.cfg target=$work/case.cfg diag="^$work/case.cfg:[0-9]*: "
    printf '%s' "$trace_text" > "$work/trace.csv"
  fi
  for ((e = 0; e < 1 + RANDOM % 4; e++)); do
    pos=$(( (RANDOM * 32768 + RANDOM) % ${#text} ))
    tok=${tokens[RANDOM % ${#tokens[@]}]}
    case $((RANDOM % 3)) in
      0) text=${text:0:pos}$tok${text:pos} ;;
      1) text=${text:0:pos}${text:pos+1+RANDOM%10} ;;
      2) text=${text:0:pos}$tok${text:pos+1+RANDOM%6} ;;
    esac
  done
  printf '%s\n' "$text" > "$target"
  err=$("$strato" check "$cfg" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 0 ] || { [ $rc -eq 2 ] && grep -Eq "$diag" <<<"$err"; }; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    cp "$target" "$work/../strato-fuzz-failure-$i.${target##*.}"
    echo "FAIL case $i: exit $rc (kept as ${TMPDIR:-/tmp}/strato-fuzz-failure-$i.${target##*.})"; sed 's/^/     | /' <<<"$err" | head -5
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
