#!/usr/bin/env bash
# run_cli_tests.sh STRATO SOURCE_DIR: the command line's contract, end to end.
#  - every config in bad/ exits 2 with a "FILE:LINE: " diagnostic (the "# expect:" regex on its first
#    line, or "FILE:1: " for a file without one) and leaves no output file, final or temporary;
#  - bad options exit 2; -o onto a file that is not a strato results file exits 2 and leaves it intact;
#  - the same config and seed twice give identical datasets; another seed gives different ones;
#  - SIGINT exits 130 and leaves a valid file marked incomplete.
set -u
strato=$1
src=$2
here=$src/tests/cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' <<<"$2"; }

no_output_left() { [ -z "$(ls -A "$work/out")" ]; }

for cfg in "$here"/bad/*.cfg; do
  name=$(basename "$cfg")
  mkdir -p "$work/out" && rm -rf "$work/out"/*
  expect=$(sed -n '1s/^# expect: //p' "$cfg")
  [ -n "$expect" ] || expect="$name:1: "
  err=$(cd "$here/bad" && "$strato" run "$name" -o "$work/out/r.h5" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -ne 2 ]; then bad "$name exits 2 (got $rc)" "$err"
  elif ! grep -Eq "^$expect" <<<"$err"; then bad "$name diagnostic matches '$expect'" "$err"
  elif ! no_output_left; then bad "$name leaves no output file" "$(ls -A "$work/out")"
  else ok "$name: exit 2, $(head -n 1 <<<"$err")"; fi
done

mkdir -p "$work/out" && rm -rf "$work/out"/*
expect_usage() { # description, then the arguments
  local what=$1; shift
  err=$("$strato" "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -eq 2 ] && grep -q '^strato: ' <<<"$err" && no_output_left; then ok "$what: exit 2"
  else bad "$what exits 2 with a message (got $rc)" "$err"; fi
}
expect_usage "no command"
expect_usage "unknown command" frobnicate
expect_usage "unknown option" run "$here/tiny.cfg" --frob -o "$work/out/r.h5"
expect_usage "bad seed" run "$here/tiny.cfg" --seed -3 -o "$work/out/r.h5"
expect_usage "bad replications" run "$here/tiny.cfg" --replications 0 -o "$work/out/r.h5"
expect_usage "horizon without unit" run "$here/tiny.cfg" --horizon 3600 -o "$work/out/r.h5"
expect_usage "missing option value" run "$here/tiny.cfg" -o
expect_usage "unknown design" run "$here/tiny.cfg" --design nope -o "$work/out/r.h5"
err=$("$strato" run "$work/nope.cfg" -o "$work/out/r.h5" 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q "nope.cfg: error: cannot open" <<<"$err" && no_output_left; then ok "missing config file: exit 2"
else bad "missing config file exits 2 naming the file (got $rc)" "$err"; fi

cp "$here/tiny.cfg" "$work/mine.cfg"
err=$("$strato" run "$here/tiny.cfg" -q -o "$work/mine.cfg" 2>&1); rc=$?
if [ $rc -eq 2 ] && cmp -s "$here/tiny.cfg" "$work/mine.cfg" && [ "$(ls "$work" | wc -l)" -eq 2 ]; then
  ok "-o onto a config file is refused and the file is intact"
else bad "-o onto a config file is refused (got $rc)" "$err"; fi

if "$strato" check "$here/tiny.cfg" >/dev/null; then ok "check accepts a good config"; else bad "check accepts a good config"; fi
for cfg in "$src"/configs/default.cfg "$src"/configs/examples/*.cfg; do
  if "$strato" check "$cfg" >/dev/null; then ok "check accepts $(basename "$cfg")"; else bad "check accepts $cfg"; fi
done

out=$("$strato" check "$src/configs/examples/worldcup98.cfg" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "mean 12.5806 requests/s, peak 75.046 requests/s" <<<"$out" &&
   grep -q "time zone +2 h): the window starts at 02:00:00 local time, 7200 s of simulated time after midnight" <<<"$out"; then
  ok "check prints the shaped trace and its local clock"
else bad "check prints the shaped trace and its local clock (got $rc)" "$out"; fi

out=$("$strato" check "$here/merged.cfg" 2>&1) && "$strato" run -q -o "$work/merged.h5" "$here/merged.cfg"; rc=$?
if [ $rc -eq 0 ] && grep -q "merged_code.csv and 1 more file, merged by time: 10 requests" <<<"$out" &&
   grep -q "trace classes: code 40%, chat 60% of the requests" <<<"$out" &&
   [ "$(h5dump -a /designs/one/runs/0/arrivals "$work/merged.h5" | grep -A1 DATA | tail -1 | tr -d ' ')" = "(0):10" ]; then
  ok "two trace files merged by time: check shows both classes, a run replays all 10 requests"
else bad "two trace files merged by time (got $rc)" "$out"; fi

out=$("$strato" catalog 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^[a-z0-9]*\.[a-z0-9]* ' <<<"$out")" -eq 20 ] && grep -q '^c6i.large  *x86_64  *2 ' <<<"$out"; then
  ok "catalog lists the 20 shipped instance types"
else bad "catalog lists the 20 shipped instance types (got $rc)" "$out"; fi
err=$("$strato" catalog "$here/tiny.cfg" 2>&1 >/dev/null); rc=$?
if [ $rc -eq 2 ] && grep -q "tiny.cfg:1: ec2_catalog: missing required setting" <<<"$err"; then ok "catalog of a file without one: exit 2"
else bad "catalog of a file without one exits 2 (got $rc)" "$err"; fi

run() { "$strato" run "$here/tiny.cfg" -q -o "$work/$1.h5" "${@:2}"; }
if run a && run b && run c --seed 8; then
  if h5diff -q "$work/a.h5" "$work/b.h5" /designs /designs && h5diff -q "$work/a.h5" "$work/b.h5" /summary /summary; then
    ok "same seed twice gives identical datasets"
  else bad "same seed twice gives identical datasets" "$(h5diff "$work/a.h5" "$work/b.h5" /designs /designs | head)"; fi
  if ! h5diff -q "$work/a.h5" "$work/c.h5" /designs /designs >/dev/null 2>&1; then ok "another seed gives different datasets"
  else bad "another seed gives different datasets"; fi
  if h5dump -a complete "$work/a.h5" | grep -q TRUE; then ok "a finished file is marked complete"
  else bad "a finished file is marked complete" "$(h5dump -a complete "$work/a.h5")"; fi
else
  bad "tiny study runs"
fi

"$strato" run "$here/long.cfg" -q -o "$work/long.h5" & pid=$!
sleep 2
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 130 ] && h5dump -a complete "$work/long.h5" | grep -q FALSE && ! ls "$work"/long.h5.tmp* >/dev/null 2>&1; then
  ok "SIGINT exits 130 and leaves a valid file marked incomplete"
else bad "SIGINT exits 130 with an incomplete file (got $rc)" "$(ls "$work")"; fi

# Units of work: -j 2 gives the bytes of -j 1; a run killed with SIGKILL midway and resumed gives them
# too; leftover parts need --resume, and parts of another study are refused.
err=$("$strato" run "$here/units.cfg" -q -o "$work/j0.h5" -j 0 2>&1); rc=$?
if [ $rc -eq 2 ] && grep -q -- "-j: not a number of workers" <<<"$err" && [ ! -e "$work/j0.h5" ]; then ok "-j 0: exit 2, no file"
else bad "-j 0 exits 2 without a file (got $rc)" "$err"; fi
units() { (mkdir -p "$work/$1" && cd "$work/$1" && cp "$here/units.cfg" . && "$strato" run units.cfg -q -o out.h5 "${@:2}"); }
if units serial -j 1 && units parallel -j2 && cmp -s "$work/serial/out.h5" "$work/parallel/out.h5"; then
  ok "-j2 writes the same bytes as -j 1"
else bad "-j2 writes the same bytes as -j 1" "$(cmp "$work/serial/out.h5" "$work/parallel/out.h5" 2>&1)"; fi
mkdir -p "$work/killed" && cp "$here/units.cfg" "$work/killed/"
(cd "$work/killed" && exec setsid "$strato" run units.cfg -q -o out.h5 -j 2) & pid=$!
for _ in $(seq 100); do [ "$(ls "$work/killed/out.h5.parts" 2>/dev/null | grep -c '\.h5$')" -ge 3 ] && break; sleep 0.05; done
kill -KILL -- -$pid 2>/dev/null; wait $pid 2>/dev/null
left=$(ls "$work/killed/out.h5.parts" 2>/dev/null | grep -c '\.h5$')
units killed -j 2 2>"$work/killed/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "continue it with --resume" "$work/killed/err"; then ok "leftover parts without --resume: exit 2"
else bad "leftover parts without --resume: exit 2 (got $rc)" "$(cat "$work/killed/err")"; fi
units killed -j 2 --resume --seed 12 2>"$work/killed/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "written by another study" "$work/killed/err"; then ok "--resume with another seed: exit 2"
else bad "--resume with another seed: exit 2 (got $rc)" "$(cat "$work/killed/err")"; fi
if [ "$left" -ge 1 ] && [ "$left" -lt 12 ] && units killed -j 2 --resume && cmp -s "$work/serial/out.h5" "$work/killed/out.h5" \
   && [ ! -e "$work/killed/out.h5.parts" ]; then
  ok "killed with SIGKILL after $left of 12 units, resumed: the same bytes, parts removed"
else bad "killed with SIGKILL after $left of 12 units and resumed gives the same bytes" "$(ls "$work/killed")"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
