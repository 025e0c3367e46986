// invoke.cpp — checked calls of built functions, for any signature.
//
// One type-erased dispatcher instead of one per signature: on both hosts
// the C calling convention assigns integer-class and floating-point
// arguments to registers independently, each class in order (x86-64
// System V: rdi rsi rdx rcx r8 r9, then the stack; xmm0..7. AAPCS64:
// x0..x7; v0..v7). With at most 8 arguments, a call to
//     R f(int64 i0..i7, double d0..d7)
// holding the integer arguments in i0.. and the F64 ones in d0.. in order
// puts every argument exactly where a function of the recorded signature
// reads it (on x86-64 the 7th and 8th integers land in the same stack
// slots either way); the callee ignores the rest. I32 arguments travel
// sign-extended, the callee reads the low half. Results come back in
// rax / x0 or xmm0 / d0: one dispatcher type per result class.
#include <npk/jitbuild.h>

#include "codegen/code_index.h"
#include "codegen/fail.h"

#include "core/registry.h"

#include <cstring>

namespace npk::codegen {
namespace {

using IntEntry = int64_t (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, double,
                             double, double, double, double, double, double, double);
using F64Entry = double (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, double,
                            double, double, double, double, double, double, double);

// The one place where a built function becomes a typed function pointer.
template <class Fn>
Fn entry_as(const void* fn) {
    return reinterpret_cast<Fn>(const_cast<void*>(fn));
}

const char* page_state(const void* fn) {
    switch (wildx::state(fn)) {
        case NPK_WILDX_WRITABLE: return "a writable page (not sealed yet)";
        case NPK_WILDX_EXECUTABLE: return "an executable page not built by the code generator";
        default: return "freed, foreign, or inside a function or region";
    }
}

[[gnu::cold]] int32_t not_a_function(const char* op, const void* fn) {
    if (fn == nullptr) return fail(op, nullptr, NPK_ERR_NULL, "function is NULL");
    return fail(op, fn, NPK_ERR_JIT_NOT_FUNCTION, "not the start of a live built function: %s", page_state(fn));
}

[[gnu::cold]] int32_t mismatch(const void* fn, Sig sig, const npk_jit_value* args, int32_t nargs) {
    char want[64], got[96];
    sig_text(sig, want, sizeof want);
    if (nargs < 0 || nargs > kMaxParams || (nargs > 0 && args == nullptr)) {
        return fail("invoke", fn, NPK_ERR_JIT_SIGNATURE, "signature %s, called with %d argument(s)%s", want, nargs,
                    nargs > 0 && args == nullptr ? " and args NULL" : "");
    }
    Type types[kMaxParams];
    bool known = true;
    for (int32_t i = 0; i < nargs; ++i) {
        known = known && args[i].type > NPK_JIT_VOID && args[i].type <= NPK_JIT_PTR;
        types[i] = known ? static_cast<Type>(args[i].type) : Type::void_;
    }
    if (!known) return fail("invoke", fn, NPK_ERR_JIT_SIGNATURE, "signature %s, called with an invalid argument type", want);
    sig_text(make_sig(sig_ret(sig), nargs, types), got, sizeof got);
    return fail("invoke", fn, NPK_ERR_JIT_SIGNATURE, "signature %s, called as %s", want, got);
}

}  // namespace
}  // namespace npk::codegen

using namespace npk::codegen;

extern "C" {

int32_t npk_jit_invoke(const void* fn, const npk_jit_value* args, int32_t nargs, npk_jit_value* ret) {
    Sig sig;
    uintptr_t base = 0;
    if (!lookup(fn, &sig, nullptr, &base)) [[unlikely]] return not_a_function("invoke", fn);
    if (sig == kSigUnknown) [[unlikely]] {
        return fail("invoke", fn, NPK_ERR_JIT_SIGNATURE, "the code's signature was never stated: nothing can be checked");
    }
    // NPK_WILDX_VERIFY=call: the whole allocation (the function's page, or
    // its region chunk) must still hash as at its seal.
    if (npk::wildx::verify_calls() &&
        npk::wildx::verify_before_call(reinterpret_cast<const void*>(base), NPK_FACILITY_BUILDER, "invoke") != 0) {
        return -1;
    }
    if (nargs != sig_nargs(sig) || (nargs > 0 && args == nullptr)) [[unlikely]] return mismatch(fn, sig, args, nargs);
    int64_t i[kMaxParams] = {};
    double d[kMaxParams] = {};
    int ni = 0, nd = 0;
    for (int32_t k = 0; k < nargs; ++k) {
        const Type t = sig_arg(sig, k);
        if (args[k].type != static_cast<int32_t>(t)) [[unlikely]] return mismatch(fn, sig, args, nargs);
        switch (t) {
            case Type::f64: d[nd++] = args[k].f64; break;
            case Type::i32: i[ni++] = args[k].i32; break;
            default: i[ni++] = args[k].i64; break;  // I64, and PTR as its bits
        }
    }
    const Type rt = sig_ret(sig);
    npk_jit_value r;
    std::memset(&r, 0, sizeof r);
    r.type = static_cast<int32_t>(rt);
    if (rt == Type::f64) {
        r.f64 = entry_as<F64Entry>(fn)(i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], d[0], d[1], d[2], d[3], d[4],
                                       d[5], d[6], d[7]);
    } else {
        const int64_t v = entry_as<IntEntry>(fn)(i[0], i[1], i[2], i[3], i[4], i[5], i[6], i[7], d[0], d[1], d[2],
                                                 d[3], d[4], d[5], d[6], d[7]);
        if (rt == Type::i32) {
            r.i32 = static_cast<int32_t>(v);  // the callee sets only the low half
        } else if (rt != Type::void_) {
            r.i64 = v;
        }
    }
    if (ret != nullptr) *ret = r;
    return 0;
}

int32_t npk_jit_signature(const void* fn, char* buf, size_t n) {
    constexpr const char* op = "npk_jit_signature";
    Sig sig;
    if (!lookup(fn, &sig)) return not_a_function(op, fn);
    if (buf == nullptr) return fail(op, fn, NPK_ERR_NULL, "buf is NULL");
    const int len = sig_text(sig, buf, n);
    if (len < 0) return fail(op, fn, NPK_ERR_JIT_BUFFER_TOO_SMALL, "%zu bytes given", n);
    return len;
}

}  // extern "C"
