// validate_run.cpp — see validate_run.h. The host's registers are read as
// words at the offsets of its ptrace register set; the host is asked of
// arch/arch.h.
#include "validate_run.h"

#include "arch/arch.h"

#include <elf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace npk::test {
namespace {

// Never mapped (below vm.mmap_min_addr), so a return to it is seen as
// the first instruction fetch outside the code.
constexpr uintptr_t kSentinel = 0x1000;
constexpr size_t kStackSize = 64 * 1024;

// A stack filled with the sentinel, mapped once before any fork: each
// child gets its own copy.
uintptr_t stack_middle() {
    static uintptr_t middle = [] {
        void* p = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return uintptr_t{0};
        auto* words = static_cast<uintptr_t*>(p);
        for (size_t i = 0; i < kStackSize / sizeof(uintptr_t); ++i) words[i] = kSentinel;
        return reinterpret_cast<uintptr_t>(p) + kStackSize / 2;
    }();
    return middle;
}

// The general registers as PTRACE_GETREGSET / NT_PRSTATUS gives them:
// x86-64's struct user_regs_struct (27 words) or AArch64's struct
// user_pt_regs (34 words), read as words so that no header of the other
// architecture is needed.
struct Regs {
    uint64_t w[34] = {};
    iovec iov {w, sizeof w};
};

struct Layout {
    int pc, sp;
    int zero_from, zero_to;  // the general registers, zeroed at the start
    int link;                // the register holding the return address, or -1
};
// user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi
// rdi orig_rax rip cs eflags rsp ...; user_pt_regs: x0..x30 sp pc pstate.
constexpr Layout kX86Layout {16, 19, 0, 14, -1};
constexpr Layout kA64Layout {32, 31, 0, 30, 30};
constexpr bool kHostSupported = npk::arch::kCpu != npk::arch::Cpu::other;
constexpr Layout kLayout = npk::arch::kCpu == npk::arch::Cpu::x86_64 ? kX86Layout : kA64Layout;

bool get_regs(pid_t pid, Regs* r) {
    r->iov = {r->w, sizeof r->w};
    return ptrace(PTRACE_GETREGSET, pid, reinterpret_cast<void*>(NT_PRSTATUS), &r->iov) == 0;
}

bool get_pc(pid_t pid, uintptr_t* pc) {
    Regs r;
    if (!get_regs(pid, &r)) return false;
    *pc = r.w[kLayout.pc];
    return true;
}

// Every general register zero; the return address the sentinel (x86-64:
// on the stack, filled with it; AArch64: in x30).
bool start_at(pid_t pid, uintptr_t code) {
    Regs r;
    if (!get_regs(pid, &r)) return false;
    for (int i = kLayout.zero_from; i <= kLayout.zero_to; ++i) r.w[i] = 0;
    if (kLayout.link >= 0) r.w[kLayout.link] = kSentinel;
    // x86-64: as right after a call, the return address at [rsp].
    r.w[kLayout.sp] = kLayout.link >= 0 ? stack_middle() : stack_middle() - 8;
    r.w[kLayout.pc] = code;
    return ptrace(PTRACE_SETREGSET, pid, reinterpret_cast<void*>(NT_PRSTATUS), &r.iov) == 0;
}

// --- The independent oracle: forbidden encodings and returns, matched on
// the bytes (Intel SDM opcode maps; Arm ARM C6), not by the decoders the
// validator uses.

// x86-64: the bytes after the legacy and REX prefixes.
const uint8_t* skip_prefixes(const uint8_t* p, const uint8_t* end) {
    while (p < end) {
        const uint8_t b = *p;
        const bool prefix = b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
                            b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65 || (b & 0xf0) == 0x40;
        if (!prefix) break;
        ++p;
    }
    return p;
}

bool x86_is_return(const uint8_t* p, const uint8_t* end) {
    p = skip_prefixes(p, end);
    return p < end && (*p == 0xc3 || *p == 0xc2);
}

const char* x86_forbidden_0f(const uint8_t* p, const uint8_t* end) {
    if (p + 1 >= end) return nullptr;
    switch (p[1]) {
    case 0x05: return "syscall";
    case 0x34: return "sysenter";
    case 0x07: return "sysret";
    case 0x35: return "sysexit";
    case 0x0b: return "ud2";
    case 0xb9: return "ud1";
    case 0xff: return "ud0";
    case 0x30: return "wrmsr";
    case 0x32: return "rdmsr";
    case 0x20: case 0x21: case 0x22: case 0x23: return "mov cr/dr";
    case 0x06: return "clts";
    case 0x08: return "invd";
    case 0x09: return "wbinvd";
    case 0xa1: case 0xa9: return "pop fs/gs";
    case 0xb2: case 0xb4: case 0xb5: return "lss/lfs/lgs";
    case 0x01: {
        if (p + 2 >= end) return nullptr;
        const uint8_t m = p[2];
        const bool sys = m == 0xd1 || m == 0xc1 || m == 0xc2 || m == 0xc3 || m == 0xc4 || m == 0xc8 ||
                         m == 0xc9 || m == 0xca || m == 0xcb || m == 0xcf || (m >= 0xd8 && m <= 0xdf) || m == 0xf8;
        if (sys || (m < 0xc0 && ((m >> 3) & 7) != 5)) return "0f 01 system instruction";
        return nullptr;
    }
    default: return nullptr;
    }
}

const char* x86_forbidden(const uint8_t* p, const uint8_t* end) {
    p = skip_prefixes(p, end);
    if (p >= end) return nullptr;
    switch (*p) {
    case 0xf4: return "hlt";
    case 0xfa: return "cli";
    case 0xfb: return "sti";
    case 0xcc: return "int3";
    case 0xcd: return "int n";
    case 0xf1: return "int1";
    case 0xcf: return "iret";
    case 0xca: case 0xcb: return "ret far";
    case 0x8e: return "mov to a segment register";
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: case 0xec: case 0xed: case 0xee: case 0xef: return "in/out";
    case 0x6c: case 0x6d: case 0x6e: case 0x6f: return "ins/outs";
    case 0xff: {
        const unsigned reg = p + 1 < end ? (p[1] >> 3) & 7 : 0;
        return reg == 3 || reg == 5 ? "far call/jmp" : nullptr;
    }
    case 0x0f: return x86_forbidden_0f(p, end);
    default: return nullptr;
    }
}

uint32_t word_at(const uint8_t* p) {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

bool a64_is_return(const uint8_t* p) { return (word_at(p) & 0xfffffc1fu) == 0xd65f0000u; }

const char* a64_forbidden(const uint8_t* p) {
    const uint32_t w = word_at(p);
    const uint32_t exc = w & 0xffe0001fu;
    if (exc == 0xd4000001u) return "svc";
    if (exc == 0xd4000002u) return "hvc";
    if (exc == 0xd4000003u) return "smc";
    if (exc == 0xd4200000u) return "brk";
    if (exc == 0xd4400000u) return "hlt";
    if ((w & 0xffe0001cu) == 0xd4a00000u) return "dcps";
    if (w == 0xd69f03e0u) return "eret";
    if (w == 0xd6bf03e0u) return "drps";
    if (w == 0xd503207fu) return "wfi";
    if ((w >> 16) == 0) return "udf";
    return nullptr;
}

constexpr bool kX86 = npk::arch::kCpu == npk::arch::Cpu::x86_64;

const uint8_t* bytes_at(uintptr_t pc) { return reinterpret_cast<const uint8_t*>(pc); }

bool is_return(uintptr_t pc, const uint8_t* end) {
    return kX86 ? x86_is_return(bytes_at(pc), end) : a64_is_return(bytes_at(pc));
}

const char* forbidden(uintptr_t pc, const uint8_t* end) {
    return kX86 ? x86_forbidden(bytes_at(pc), end) : a64_forbidden(bytes_at(pc));
}

// AArch64: a SIGILL in the system instruction space (msr, mrs, sys, sysl)
// means an EL1 register or operation the validator let through. (x86-64
// reports those as SIGSEGV, and the list above names them.)
bool sysreg_move(uintptr_t pc, const uint8_t*) {
    return !kX86 && (word_at(bytes_at(pc)) & 0xffc00000u) == 0xd5000000u;
}

// The child: stops for its tracer, which then points it at the code.
[[noreturn]] void traced_child() {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(3);
    raise(SIGSTOP);
    _exit(4);  // only if the tracer let it go on
}

// waitpid with a deadline; false (child killed) when it runs out.
bool wait_for(pid_t pid, int* status, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) return true;
        if (r < 0) return false;
        usleep(200);
    }
    kill(pid, SIGKILL);
    waitpid(pid, status, 0);
    return false;
}

RunResult step_child(pid_t pid, uintptr_t lo, uintptr_t hi, int max_steps) {
    const auto* end = reinterpret_cast<const uint8_t*>(hi);
    RunResult r;
    uintptr_t prev = 0;
    for (int step = 0; step <= max_steps; ++step) {
        uintptr_t pc = 0;
        if (!get_pc(pid, &pc)) {
            r.detail = "could not read the registers";
            return r;
        }
        r.pc = pc;
        const bool inside = pc >= lo && pc < hi;
        if (!inside) {
            r.outcome = step > 0 && is_return(prev, end) ? RunOutcome::returned : RunOutcome::left_code;
            return r;
        }
        if (const char* what = forbidden(pc, end)) {
            r.outcome = RunOutcome::forbidden;
            r.detail = what;
            return r;
        }
        if (step == max_steps) break;
        prev = pc;
        int status = 0;
        if (ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0 || waitpid(pid, &status, 0) != pid ||
            !WIFSTOPPED(status)) {
            r.detail = "the child ended by itself";
            return r;
        }
        const int sig = WSTOPSIG(status);
        if (sig == SIGTRAP) continue;
        r.signal = sig;
        if (!get_pc(pid, &pc)) return r;
        r.pc = pc;
        if (pc >= lo && pc < hi) {
            const char* what = forbidden(pc, end);
            if (what == nullptr && sig == SIGILL && sysreg_move(pc, end)) what = "a system instruction";
            r.outcome = what == nullptr ? RunOutcome::faulted_inside : RunOutcome::forbidden;
            if (what != nullptr) r.detail = what;
        } else {
            r.outcome = is_return(prev, end) ? RunOutcome::returned : RunOutcome::left_code;
        }
        return r;
    }
    r.outcome = RunOutcome::step_limit;
    return r;
}

}  // namespace

bool run_ok(const RunResult& r) {
    return r.outcome == RunOutcome::returned || r.outcome == RunOutcome::faulted_inside ||
           r.outcome == RunOutcome::step_limit;
}

const char* outcome_name(RunOutcome o) {
    switch (o) {
    case RunOutcome::returned: return "returned";
    case RunOutcome::faulted_inside: return "faulted inside the code";
    case RunOutcome::step_limit: return "still inside at the step limit";
    case RunOutcome::left_code: return "left the code";
    case RunOutcome::forbidden: return "reached a forbidden instruction";
    case RunOutcome::died: return "died";
    }
    return "?";
}

bool tracing_works() {
    static const bool works = [] {
        if (!kHostSupported || stack_middle() == 0) return false;
        const pid_t pid = fork();
        if (pid == 0) traced_child();
        if (pid < 0) return false;
        int status = 0;
        if (!wait_for(pid, &status, std::chrono::seconds(5)) || !WIFSTOPPED(status)) return false;
        uintptr_t pc = 0;
        const bool ok = get_pc(pid, &pc) && ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) == 0 &&
                        wait_for(pid, &status, std::chrono::seconds(5)) && WIFSTOPPED(status);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return ok;
    }();
    return works;
}

RunResult run_traced(const void* code, size_t size, int max_steps) {
    RunResult r;
    const pid_t pid = fork();
    if (pid == 0) traced_child();
    if (pid < 0) {
        r.detail = "fork failed";
        return r;
    }
    int status = 0;
    const auto lo = reinterpret_cast<uintptr_t>(code);
    if (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) && start_at(pid, lo)) {
        r = step_child(pid, lo, lo + size, max_steps);
    } else {
        r.detail = "the child did not stop for its tracer";
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return r;
}

}  // namespace npk::test
