// compile.cpp — asmjit's part of a build: one CodeHolder per function,
// the fast tier for the host (emit.h), and the copy to the function's
// final place.
//
// Never JitRuntime or JitAllocator (they map memory writable and
// executable at once): the finished code is relocated to an address of
// our own wildx heap and copied there; sealing is the registry's job.
#include "codegen/lower.h"

#include <npk/status.h>

#include "arch/arch.h"
#include "codegen/emit.h"
#include "codegen/fail.h"
#include "codegen/spare.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace npk::codegen {
namespace {

// The code generator for the host, from the one place that knows the CPU.
enum class Target { none, x86_64, aarch64 };
constexpr Target kHost = !arch::kCanRunCode               ? Target::none
                         : arch::kCpu == arch::Cpu::x86_64 ? Target::x86_64
                                                           : Target::aarch64;

// Keeps asmjit's first error and its text (later ones follow from it).
class FirstError : public asmjit::ErrorHandler {
public:
    asmjit::Error err = asmjit::kErrorOk;
    char text[160] = "";
    void handleError(asmjit::Error e, const char* message, asmjit::BaseEmitter*) override {
        if (err != asmjit::kErrorOk) return;
        err = e;
        std::snprintf(text, sizeof text, "%s", message);
    }
};

}  // namespace

struct Compiled {
    asmjit::CodeHolder code;
    FirstError errors;
};

namespace {

// Each thread keeps one finished-with Compiled: its CodeHolder, reset
// softly, keeps its zone's blocks for the next function.
thread_local ThreadSpare<Compiled> t_spare;

Compiled* fresh_compiled() {
    if (Compiled* c = t_spare.take()) {
        c->errors = FirstError();
        return c;
    }
    void* mem = std::calloc(1, sizeof(Compiled));
    return mem == nullptr ? nullptr : new (mem) Compiled;
}

}  // namespace

bool host_has_codegen() { return kHost != Target::none; }

Compiled* compile(const Program& p, const char* op, const void* subject) {
    if constexpr (kHost == Target::none) {
        fail(op, subject, NPK_ERR_UNSUPPORTED_HOST, "no code generator for this CPU");
        return nullptr;
    }
    Compiled* c = fresh_compiled();
    if (c == nullptr) {
        fail(op, subject, NPK_ERR_OUT_OF_MEMORY, "no memory to compile");
        return nullptr;
    }
    asmjit::Error err = c->code.init(asmjit::Environment::host());
    if (err == asmjit::kErrorOk) {
        c->code.setErrorHandler(&c->errors);
        err = kHost == Target::x86_64 ? emit_x86(p, c->code) : emit_a64(p, c->code);
        if (c->errors.err != asmjit::kErrorOk) err = c->errors.err;
    }
    if (err != asmjit::kErrorOk) {
        if (err == asmjit::kErrorOutOfMemory) {
            fail(op, subject, NPK_ERR_OUT_OF_MEMORY, "asmjit ran out of memory");
        } else {
            fail(op, subject, NPK_ERR_JIT_CODEGEN, "asmjit: %s (%s)", asmjit::DebugUtils::errorAsString(err),
                 c->errors.text);
        }
        destroy(c);
        return nullptr;
    }
    return c;
}

size_t max_size(const Compiled* c) { return c->code.codeSize(); }

size_t place(Compiled* c, void* dst, const char* op) {
    const size_t room = c->code.codeSize();
    asmjit::Error err = c->code.relocateToBase(reinterpret_cast<uintptr_t>(dst));
    const size_t size = c->code.codeSize();  // relocation may only shrink it
    if (err == asmjit::kErrorOk && size > room) err = asmjit::kErrorInvalidState;
    if (err == asmjit::kErrorOk) {
        err = c->code.copyFlattenedData(dst, room, asmjit::CopySectionFlags::kPadSectionBuffer);
    }
    if (err != asmjit::kErrorOk) {
        fail(op, dst, NPK_ERR_JIT_CODEGEN, "asmjit could not place the code: %s",
             asmjit::DebugUtils::errorAsString(err));
        return 0;
    }
    return size;
}

void trap_fill(void* p, size_t n) { std::memset(p, kHost == Target::x86_64 ? 0xCC : 0x00, n); }

void destroy(Compiled* c) {
    if (c == nullptr) return;
    if (t_spare.empty()) {
        c->code.reset(asmjit::ResetPolicy::kSoft);
        t_spare.park(c);
        return;
    }
    c->~Compiled();
    std::free(c);
}

}  // namespace npk::codegen
