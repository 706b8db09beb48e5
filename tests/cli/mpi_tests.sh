#!/usr/bin/env bash
# mpi_tests.sh STRATO MPIEXEC SRC: a study's units spread over MPI ranks give the bytes of a serial run:
# mpirun -np 2, and -np 8 on this 2-core machine (more ranks than cores: the dynamic hand-out under
# contention). Prints "ok"/"FAIL" lines and "N passed, M failed"; exit status 1 on any failure.
set -u
strato=$1 mpiexec=$2 src=$3
here="$src/tests/cli"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' <<<"$2"; failed=$((failed + 1)); }

in_dir() { mkdir -p "$work/$1" && cp "$here/units.cfg" "$work/$1/" && cd "$work/$1"; }
(in_dir serial && "$strato" run units.cfg -q -o out.h5 -j 1) || bad "serial run"
for np in 2 8; do
  out=$( (in_dir "np$np" && "$mpiexec" -np $np --oversubscribe "$strato" run units.cfg -q -o out.h5) 2>&1); rc=$?
  if [ $rc -eq 0 ] && cmp -s "$work/serial/out.h5" "$work/np$np/out.h5" && [ ! -e "$work/np$np/out.h5.parts" ]; then
    ok "mpirun -np $np writes the bytes of a serial run"
  else bad "mpirun -np $np writes the bytes of a serial run (exit $rc)" "$out"; fi
done

# A rank that dies ends the job with an error; the finished units stay, and --resume (here without MPI)
# completes the serial file.
in_dir() { mkdir -p "$work/$1" && cp "$here/units.cfg" "$work/$1/"; }
in_dir rankdeath
(cd "$work/rankdeath" && exec "$mpiexec" -np 2 --oversubscribe "$strato" run units.cfg -q -o out.h5) >"$work/rankdeath.log" 2>&1 &
mpi=$!
for _ in $(seq 200); do [ "$(ls "$work/rankdeath/out.h5.parts" 2>/dev/null | grep -c '\.h5$')" -ge 2 ] && break; sleep 0.05; done
victim=$(pgrep -n -f "$strato run units.cfg -q -o out.h5")
[ -n "$victim" ] && kill -KILL "$victim"
wait $mpi; rc=$?
kept=$(ls "$work/rankdeath/out.h5.parts" 2>/dev/null | grep -c '\.h5$')
if [ $rc -ne 0 ] && [ "$kept" -ge 1 ] && (cd "$work/rankdeath" && "$strato" run units.cfg -q -o out.h5 --resume) &&
   cmp -s "$work/serial/out.h5" "$work/rankdeath/out.h5"; then
  ok "a killed rank ends the job (exit $rc) with $kept units kept; --resume gives the serial bytes"
else bad "a killed rank ends the job with the units kept, and --resume completes it (exit $rc, $kept kept)" "$(tail -5 "$work/rankdeath.log")"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
