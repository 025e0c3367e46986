#!/bin/sh
# gdb_names.sh SUBJECT [EMULATOR...] — the real gdb names JIT frames.
#
# Runs `SUBJECT call` (jit_subject.c) under `gdb -batch` with
# NPK_JIT_GDB=1: a breakpoint in the C function npk_subject_native,
# called from the JIT function npk_jit_caller, must give a backtrace with
# npk_jit_caller as frame #1 and the C caller beyond it (the unwinder
# walked the JIT frame); and after the function is freed, gdb no longer
# knows the symbol at its address. A control run without NPK_JIT_GDB must
# show frame #1 as ?? (). Exits 77 only where gdb cannot run a program on
# this machine, saying why.
set -u
subject=$1
shift
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; echo "--- gdb output:"; cat "$tmp/gdb.log"; exit 1; }
[ $# -eq 0 ] || skip "the subject runs under an emulator ($1): gdb here cannot debug it (no gdb-multiarch; qemu-user offers only a remote stub)"
command -v gdb >/dev/null 2>&1 || skip "no gdb binary (Debian package gdb)"
# LeakSanitizer cannot run under ptrace (the ASan build); nothing else minds.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/gdb.log"
gdb -batch -nx -ex run --args /bin/true >"$tmp/probe.log" 2>&1
grep -q "exited normally" "$tmp/probe.log" ||
  skip "gdb cannot run a program here (ptrace?): $(tail -n 2 "$tmp/probe.log" | tr '\n' ' ')"

cat >"$tmp/cmds" <<'GDB'
set pagination off
set confirm off
break npk_subject_native
break npk_subject_after_free
run
echo ==bt-in-native\n
bt
echo ==jit-frame\n
frame 1
info symbol $pc
continue
echo ==after-free\n
info symbol fn
continue
GDB
NPK_JIT_GDB=1 timeout 120 gdb -batch -nx -x "$tmp/cmds" --args "$subject" call >"$tmp/gdb.log" 2>&1
sed -n '/==bt-in-native/,/==after-free/p' "$tmp/gdb.log" >"$tmp/during"
sed -n '/==after-free/,$p' "$tmp/gdb.log" >"$tmp/after"
grep -Eq '^#1 +0x[0-9a-f]+ in npk_jit_caller \(\)' "$tmp/during" || fail "frame #1 of the backtrace is not npk_jit_caller"
grep -Eq '^#2 +0x[0-9a-f]+ in (call|main) ' "$tmp/during" || fail "the backtrace does not continue past the JIT frame into its C caller"
grep -Eq '^npk_jit_caller \+ [0-9]+ in section \.text' "$tmp/during" || fail "info symbol does not name the JIT function at its pc"
grep -q 'No symbol matches fn' "$tmp/after" || fail "gdb still knows a symbol at the freed function's address"
grep -q 'exited normally' "$tmp/gdb.log" || fail "the subject did not exit normally"
# The control: without NPK_JIT_GDB, gdb has no name for the frame (so the
# names above come from the JIT interface, not from anywhere else).
cp "$tmp/gdb.log" "$tmp/with.log"
env -u NPK_JIT_GDB timeout 120 gdb -batch -nx -x "$tmp/cmds" --args "$subject" call >"$tmp/gdb.log" 2>&1
grep -Eq '^#1 +0x[0-9a-f]+ in \?\? \(\)' "$tmp/gdb.log" || fail "without NPK_JIT_GDB, frame #1 is not ?? ()"
grep -q 'npk_jit_caller' "$tmp/gdb.log" && fail "without NPK_JIT_GDB, gdb still names npk_jit_caller"
sed -n '/==bt-in-native/,/==jit-frame/p' "$tmp/with.log"
grep -E '^npk_jit_caller \+|No symbol matches' "$tmp/with.log"
echo "(without NPK_JIT_GDB: $(grep -E '^#1 ' "$tmp/gdb.log" | head -n 1))"
echo "PASS"
