// signal.h — the program counter of a signal's machine context (private).
//
// With arch.h, the only place that knows a CPU's register layout.
// Apart from arch.h: <ucontext.h> declares REG_R8..REG_R15 and friends,
// names upstream's runtime/assembler.h also declares, so only a signal
// handler includes it.
#pragma once

#include <cstdint>
#include <signal.h>
#include <ucontext.h>

namespace npk::arch {

// The address of the instruction a signal interrupted, from the third
// argument of an SA_SIGINFO handler (0 where this file does not know the
// layout). npk names the built function a fault happened in with it.
inline uintptr_t signal_pc(const void* ucontext) {
#if defined(__x86_64__) && defined(__linux__)
    return static_cast<uintptr_t>(static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__) && defined(__linux__)
    return static_cast<uintptr_t>(static_cast<const ucontext_t*>(ucontext)->uc_mcontext.pc);
#else
    (void)ucontext;
    return 0;
#endif
}

}  // namespace npk::arch
