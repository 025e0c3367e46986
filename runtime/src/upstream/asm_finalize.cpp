// asm_finalize.cpp — from an Assembler to a sealed WildXGuard, and the
// calls, statistics and host queries of runtime/assembler.h.
#include "upstream/asm_impl.h"
#include "upstream/guard.h"

#include <npk/jitbuild.h>
#include <npk/status.h>

#include "arch/arch.h"
#include "arch/call_saved.h"
#include "codegen/vec.h"
#include "core/errors.h"
#include "core/registry.h"
#include "tools/sinks.h"
#include "tools/tools.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace npk::upstream {
namespace {

constexpr const char* kFinalize = "npk_asm_finalize";
constexpr bool kHostIsX86 = arch::kCpu == arch::Cpu::x86_64 && arch::kCanRunCode;

// The recorded program, optimised, allocated and encoded after whatever
// the buffer holds. Once: the recorded program stays as it was recorded.
bool lower(AsmImpl* a) {
    RegAllocState* ra = a->pub.regalloc;
    peephole(a);
    codegen::Vec<JitIR> out;
    if (!allocate(a, out)) return false;
    ra->insn_sel = InsnSelStats{};
    for (size_t i = 0; i < out.size() && !a->pub.error; ++i) {
        encode(a, out[i], true, flags_dead_after(out.data(), out.size(), i));
    }
    a->lowered = true;
    return !a->pub.error;
}

bool labels_resolved(AsmImpl* a) {
    for (uint32_t i = 0; i < a->pub.label_count; ++i) {
        const AsmLabel& l = a->pub.labels[i];
        if (l.position < 0 && l.num_patches > 0) {
            asm_error(a, kFinalize, NPK_ERR_JIT_LABEL_UNBOUND, "label %u: %u jump(s) wait for it, it was never bound",
                      i, l.num_patches);
            return false;
        }
    }
    return true;
}

// A page holding the code, the rest of it INT3, sealed and published.
WildXGuard install(AsmImpl* a) {
    const CodeBuffer* buf = a->pub.buffer;
    WildXGuard g = alloc_guard(buf->size);
    if (g.ptr == nullptr) {
        asm_error_reported(a, kFinalize, npk::last_error_message());
        return WildXGuard{};
    }
    auto* image = static_cast<uint8_t*>(std::malloc(g.size));
    bool ok = image != nullptr;
    if (ok) {
        std::memcpy(image, buf->data, buf->size);
        std::memset(image + buf->size, 0xCC, g.size - buf->size);
        ok = wildx::write_code(g.ptr, image, g.size) == 0;
    } else {
        asm_error(a, kFinalize, NPK_ERR_OUT_OF_MEMORY, "no memory for the page image");
    }
    std::free(image);
    if (ok && seal_guard(&g, kFinalize, a->has_sig ? a->sig : kUnknownSig, buf->size) == 0) return g;
    asm_error_reported(a, kFinalize, npk::last_error_message());
    npk_free_exec(&g);
    return WildXGuard{};
}

bool fits_type(int32_t t, bool result) { return t >= (result ? NPK_JIT_VOID : NPK_JIT_I32) && t <= NPK_JIT_PTR; }

}  // namespace
}  // namespace npk::upstream

using namespace npk::upstream;

extern "C" {

WildXGuard npk_asm_finalize(Assembler* asm_ctx) {
    if (asm_ctx == nullptr) {
        npk::fail(NPK_FACILITY_BUILDER, kFinalize, npk::Subject::none(), NPK_ERR_NULL, "the assembler is NULL");
        return WildXGuard{};
    }
    AsmImpl* a = impl(asm_ctx);
    if (asm_ctx->error) {
        npk::fail(NPK_FACILITY_BUILDER, kFinalize, npk::Subject::pointer(a), NPK_ERR_JIT_BUILDER_FAILED,
                  asm_ctx->error_msg);
        return WildXGuard{};
    }
    if (!kHostIsX86) {
        asm_error(a, kFinalize, NPK_ERR_UNSUPPORTED_HOST, "x86-64 code cannot run on this %s host", npk::arch::kCpuName);
        return WildXGuard{};
    }
    if (asm_ctx->regalloc != nullptr && !a->lowered && !lower(a)) return WildXGuard{};
    if (!labels_resolved(a)) return WildXGuard{};
    if (asm_ctx->buffer->size == 0) {
        asm_error(a, kFinalize, NPK_ERR_ZERO_SIZE, "no code to finalize");
        return WildXGuard{};
    }
    return install(a);
}

int npk_asm_set_signature(Assembler* asm_ctx, int32_t ret_type, int32_t nargs, const int32_t* arg_types) {
    constexpr const char* op = "npk_asm_set_signature";
    if (asm_ctx == nullptr) {
        return npk::fail(NPK_FACILITY_BUILDER, op, npk::Subject::none(), NPK_ERR_NULL, "the assembler is NULL");
    }
    AsmImpl* a = impl(asm_ctx);
    if (asm_ctx->error) return -1;
    if (!fits_type(ret_type, true)) return asm_error(a, op, NPK_ERR_JIT_BAD_TYPE, "result type %d", ret_type);
    if (nargs < 0 || nargs > npk::codegen::kMaxParams) {
        return asm_error(a, op, NPK_ERR_JIT_TOO_MANY_PARAMS, "%d parameters (0..%d)", nargs, npk::codegen::kMaxParams);
    }
    if (nargs > 0 && arg_types == nullptr) return asm_error(a, op, NPK_ERR_NULL, "arg_types is NULL");
    npk::codegen::Type args[npk::codegen::kMaxParams];
    for (int32_t i = 0; i < nargs; ++i) {
        if (!fits_type(arg_types[i], false)) {
            return asm_error(a, op, NPK_ERR_JIT_BAD_TYPE, "parameter %d has type %d", i, arg_types[i]);
        }
        args[i] = static_cast<npk::codegen::Type>(arg_types[i]);
    }
    a->sig = npk::codegen::make_sig(static_cast<npk::codegen::Type>(ret_type), nargs, args);
    a->has_sig = true;
    return 0;
}

int64_t npk_asm_execute(WildXGuard* guard) {
    return callable(guard, "npk_asm_execute") ? npk::arch::call_saving_i64(guard->ptr, 0, 0) : -1;
}
int64_t npk_asm_execute_i64(WildXGuard* guard, int64_t arg1) {
    return callable(guard, "npk_asm_execute_i64") ? npk::arch::call_saving_i64(guard->ptr, arg1, 0) : -1;
}
int64_t npk_asm_execute_i64_i64(WildXGuard* guard, int64_t arg1, int64_t arg2) {
    return callable(guard, "npk_asm_execute_i64_i64") ? npk::arch::call_saving_i64(guard->ptr, arg1, arg2) : -1;
}
double npk_asm_execute_f64(WildXGuard* guard) {
    return callable(guard, "npk_asm_execute_f64") ? npk::arch::call_saving_f64(guard->ptr, 0.0) : std::nan("");
}
double npk_asm_execute_f64_f64(WildXGuard* guard, double arg1) {
    return callable(guard, "npk_asm_execute_f64_f64") ? npk::arch::call_saving_f64(guard->ptr, arg1) : std::nan("");
}

PeepholeStats npk_asm_peephole_stats(const Assembler* asm_ctx) {
    return asm_ctx != nullptr && impl(asm_ctx)->lowered ? impl(asm_ctx)->peep : PeepholeStats{};
}

InsnSelStats npk_asm_insn_sel_stats(const Assembler* asm_ctx) {
    return asm_ctx != nullptr && impl(asm_ctx)->lowered ? asm_ctx->regalloc->insn_sel : InsnSelStats{};
}

void npk_asm_perf_map_register(const void* code_addr, size_t code_size, const char* name) {
    constexpr const char* op = "npk_asm_perf_map_register";
    if (code_addr == nullptr || code_size == 0) {
        npk::fail(NPK_FACILITY_JIT, op, npk::Subject::pointer(code_addr), code_addr ? NPK_ERR_ZERO_SIZE : NPK_ERR_NULL);
        return;
    }
    if (name != nullptr) {
        if (const char* why = npk::tools::name_problem(name)) {
            npk::fail(NPK_FACILITY_JIT, op, npk::Subject::pointer(code_addr), NPK_ERR_INVALID_ARGUMENT, why);
            return;
        }
    }
    const npk::tools::CodeSpan span{reinterpret_cast<uintptr_t>(code_addr), code_size, name};
    npk::tools::perf_map_publish(&span, 1);
}

AsmArch npk_asm_get_arch(void) { return ASM_ARCH_X86_64; }

bool npk_asm_arch_supported(AsmArch arch) { return arch == ASM_ARCH_X86_64 && kHostIsX86; }

}  // extern "C"
