#!/bin/sh
# perf_names.sh MODE SUBJECT [EMULATOR...] — the real perf names JIT code.
#
# Runs `SUBJECT hot` (jit_subject.c: about 1.5 s inside the JIT function
# npk_hot_loop) under `perf record -e cpu-clock` (a software event: it
# works in VMs) with NPK_JIT_PERF=MODE, then `perf report`:
#   map      the symbol comes from /tmp/perf-<pid>.map;
#   jitdump  recorded with -k 1 (CLOCK_MONOTONIC, the clock the dump's
#            timestamps use), then `perf inject --jit`: the symbol comes
#            from the jitted-<pid>-N.so it writes, and no perf map exists.
# Passes when npk_hot_loop is the symbol with the most samples. Exits 77
# only where perf cannot record on this machine, saying why.
set -u
mode=$1 subject=$2
shift 2
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ $# -eq 0 ] || skip "the subject runs under an emulator ($1): perf would sample the emulator's translated code, not the guest's JIT code"
command -v perf >/dev/null 2>&1 || skip "no perf binary (Debian package linux-perf)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! perf record -e cpu-clock -o "$tmp/probe.data" -- true >"$tmp/probe.log" 2>&1; then
  skip "perf cannot record here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)): $(tail -n 3 "$tmp/probe.log" | tr '\n' ' ')"
fi

case $mode in
  map)
    NPK_JIT_PERF=map perf record -e cpu-clock -o "$tmp/perf.data" -- "$subject" hot >"$tmp/out" 2>"$tmp/err" ||
      fail "perf record / subject failed: $(cat "$tmp/err")"
    report=$tmp/perf.data ;;
  jitdump)
    NPK_JIT_PERF=jitdump NPK_JIT_DUMP_DIR=$tmp perf record -k 1 -e cpu-clock -o "$tmp/perf.data" -- "$subject" hot \
      >"$tmp/out" 2>"$tmp/err" || fail "perf record / subject failed: $(cat "$tmp/err")"
    perf inject --jit -i "$tmp/perf.data" -o "$tmp/perf.jit.data" >"$tmp/inject.log" 2>&1 ||
      fail "perf inject --jit failed: $(cat "$tmp/inject.log")"
    report=$tmp/perf.jit.data ;;
  *) fail "unknown mode $mode" ;;
esac
cat "$tmp/out"
pid=$(sed -n 's/^pid \([0-9][0-9]*\) .*/\1/p' "$tmp/out")
[ -n "$pid" ] || fail "the subject did not print its pid"
map=/tmp/perf-$pid.map
if [ "$mode" = map ]; then
  [ -s "$map" ] || fail "$map was not written"
  echo "$map:"; cat "$map"
else
  [ ! -e "$map" ] || fail "$map exists: NPK_JIT_PERF=jitdump must not write a perf map"
  ls "$tmp"/jit-"$pid".dump >/dev/null 2>&1 || fail "no jit-$pid.dump in NPK_JIT_DUMP_DIR"
fi

perf report -i "$report" --stdio --sort dso,sym 2>"$tmp/report.err" | grep -v '^#' | grep -v '^ *$' >"$tmp/report"
rm -f "$map"
echo "perf report (top 5):"; head -n 5 "$tmp/report"
top=$(head -n 1 "$tmp/report")
case $top in
  *npk_hot_loop*) ;;
  *) fail "the symbol with the most samples is not npk_hot_loop: $top" ;;
esac
if [ "$mode" = jitdump ]; then
  case $top in
    *jitted-"$pid"-*.so*) ;;
    *) fail "npk_hot_loop is not attributed to a jitted-$pid-N.so of perf inject: $top" ;;
  esac
fi
echo "PASS: $top"
