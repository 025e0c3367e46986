#include "run/jit_fault.h"

#include <npk/jitbuild.h>
#include <setjmp.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <mutex>

#include "arch/signal.h"

namespace npk::run {

namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
struct sigaction g_previous[sizeof kSignals / sizeof kSignals[0]];

thread_local sigjmp_buf* t_armed = nullptr;
thread_local MachineFault t_fault;

void on_fault(int sig, siginfo_t* info, void* ucontext) {
    sigjmp_buf* armed = t_armed;
    if (!armed) {
        // Not inside a guarded call: put the previous handler back and
        // return, so that the faulting instruction runs again under it.
        for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
            if (kSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
        return;
    }
    t_armed = nullptr;
    t_fault.sig = sig;
    t_fault.pc = arch::signal_pc(ucontext);
    t_fault.addr = reinterpret_cast<uintptr_t>(info->si_addr);
    siglongjmp(*armed, 1);
}

void install_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sa.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
            sigaction(kSignals[i], &sa, &g_previous[i]);
    });
}

}  // namespace

bool call_catching_faults(void (*fn)(void*), void* ctx, MachineFault& f) {
    install_once();
    sigjmp_buf here;
    if (sigsetjmp(here, 1) != 0) {
        f = t_fault;
        return false;
    }
    t_armed = &here;
    fn(ctx);
    t_armed = nullptr;
    return true;
}

bool call_extern_catching_faults(const BoundExtern& b, const std::vector<uint64_t>& words, uint64_t& result,
                                 MachineFault& f) {
    struct Ctx {
        const BoundExtern* b;
        const std::vector<uint64_t>* words;
        uint64_t r;
    } ctx{&b, &words, 0};
    auto run = [](void* p) {
        auto* c = static_cast<Ctx*>(p);
        c->r = ExternTable::call(*c->b, *c->words);
    };
    const bool ok = call_catching_faults(run, &ctx, f);
    result = ctx.r;
    return ok;
}

std::string describe_fault(const MachineFault& f, uint64_t entry) {
    const char* sig = f.sig == SIGSEGV ? "SIGSEGV" : f.sig == SIGBUS ? "SIGBUS" : f.sig == SIGILL ? "SIGILL" : "SIGFPE";
    char name[NPK_JIT_MAX_NAME + 1] = "";
    const void* fn = reinterpret_cast<const void*>(static_cast<uintptr_t>(entry));
    if (npk_jit_name(fn, name, sizeof name) < 0) std::snprintf(name, sizeof name, "0x%llx", static_cast<unsigned long long>(entry));
    char buf[256];
    std::string where;
    // A region chunk is at most 1 MiB: an address past the entry within
    // it is an offset into the function (or one after it in its region).
    if (f.pc >= entry && f.pc - entry < (uint64_t{1} << 20)) {
        std::snprintf(buf, sizeof buf, "in built function '%s'+0x%llx", name,
                      static_cast<unsigned long long>(f.pc - entry));
        where = buf;
    } else {
        where = std::string("in native code called from built function '") + name + "'";
    }
    if (f.sig == SIGSEGV || f.sig == SIGBUS)
        std::snprintf(buf, sizeof buf, "Machine fault in generated code: %s at address 0x%llx %s", sig,
                      static_cast<unsigned long long>(f.addr), where.c_str());
    else
        std::snprintf(buf, sizeof buf, "Machine fault in generated code: %s %s", sig, where.c_str());
    return buf;
}

}  // namespace npk::run
