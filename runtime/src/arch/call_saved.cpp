// call_saved.cpp — the register-saving call thunk of call_saved.h.
#include "arch/call_saved.h"

#include <cassert>

#if defined(__x86_64__) && !defined(_WIN32)
// One thunk, two C prototypes: it moves the integer arguments one
// register down (fn arrives in RDI), leaves XMM0 and the results alone,
// and keeps the stack 16-byte aligned at the call. Hidden, and not named
// npk_*, so that it never leaves libnpkjit.so.
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl nitpick_call_saving_i64\n"
    ".hidden nitpick_call_saving_i64\n"
    ".type nitpick_call_saving_i64, @function\n"
    ".globl nitpick_call_saving_f64\n"
    ".hidden nitpick_call_saving_f64\n"
    ".type nitpick_call_saving_f64, @function\n"
    "nitpick_call_saving_i64:\n"
    "nitpick_call_saving_f64:\n"
    "    push %rbp\n"           // the frame gdb and perf walk
    "    mov %rsp, %rbp\n"
    "    push %rbx\n"
    "    push %r12\n"
    "    push %r13\n"
    "    push %r14\n"
    "    push %r15\n"
    "    sub $8, %rsp\n"        // 6 pushes + return address: realign to 16
    "    mov %rdi, %rax\n"
    "    mov %rsi, %rdi\n"
    "    mov %rdx, %rsi\n"
    "    call *%rax\n"
    "    add $8, %rsp\n"
    "    pop %r15\n"
    "    pop %r14\n"
    "    pop %r13\n"
    "    pop %r12\n"
    "    pop %rbx\n"
    "    pop %rbp\n"
    "    ret\n"
    ".size nitpick_call_saving_i64, .-nitpick_call_saving_i64\n"
    ".size nitpick_call_saving_f64, .-nitpick_call_saving_f64\n");

extern "C" int64_t nitpick_call_saving_i64(const void* fn, int64_t a0, int64_t a1);
extern "C" double nitpick_call_saving_f64(const void* fn, double d0);

namespace npk::arch {
int64_t call_saving_i64(const void* fn, int64_t a0, int64_t a1) { return nitpick_call_saving_i64(fn, a0, a1); }
double call_saving_f64(const void* fn, double d0) { return nitpick_call_saving_f64(fn, d0); }
}  // namespace npk::arch

#else

namespace npk::arch {
int64_t call_saving_i64(const void*, int64_t, int64_t) {
    assert(!"call_saving_i64 called on a host without the thunk");
    return -1;
}
double call_saving_f64(const void*, double) {
    assert(!"call_saving_f64 called on a host without the thunk");
    return 0.0;
}
}  // namespace npk::arch

#endif
