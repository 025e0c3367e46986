// Machine faults inside built code (issue 19): a bad Jit.load through a
// NULL or freed pointer must reach `failsafe` as a run-time error naming
// the built function, like the same mistake in Nitpick (`p[i]`), not end
// npk with a bare SIGSEGV.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run/externs.h"

namespace npk::run {

struct MachineFault {
    int sig = 0;          // SIGSEGV, SIGBUS, SIGILL or SIGFPE
    uintptr_t pc = 0;     // the faulting instruction (0: unknown on this host)
    uintptr_t addr = 0;   // the faulting data address (SIGSEGV, SIGBUS)
};

// Calls fn(ctx) on this thread. If one of those signals arrives on this
// thread meanwhile, the call is abandoned (built code holds no lock and
// no resource of npk's), the fault is described in `f` and false is
// returned. A fault outside such a call goes to whatever handled the
// signal before (the default action, or a sanitizer's report).
bool call_catching_faults(void (*fn)(void*), void* ctx, MachineFault& f);

// ExternTable::call(b, words) under call_catching_faults.
bool call_extern_catching_faults(const BoundExtern& b, const std::vector<uint64_t>& words, uint64_t& result,
                                 MachineFault& f);

// "SIGSEGV at address 0x0 in built function 'twice'+0x1c" for a fault in
// the call that entered the built function at `entry`.
std::string describe_fault(const MachineFault& f, uint64_t entry);

}  // namespace npk::run
