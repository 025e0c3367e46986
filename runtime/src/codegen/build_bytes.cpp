// build_bytes.cpp — npk_jit_build_bytes (npk/jitbuild.h): machine code
// someone else assembled, installed as a function with a signature only
// when it validates.
//
// The order matters: the bytes are copied into a fresh wildx page first
// and validated there, at the address they will run at (branch targets
// depend on it) and where the caller can no longer change them; only
// then is the page sealed and the function published. Nothing that
// failed validation is ever executable.
#include <npk/jitbuild.h>
#include <npk/validate.h>

#include "codegen/dump.h"
#include "codegen/fail.h"
#include "codegen/lower.h"
#include "codegen/region.h"
#include "core/registry.h"
#include "tools/tools.h"

#include <cstring>

namespace npk::codegen {
namespace {

constexpr const char* kOp = "npk_jit_build_bytes";

bool valid_value_type(int32_t t) { return t > NPK_JIT_VOID && t <= NPK_JIT_PTR; }

// The signature as data, or -1 after reporting what is wrong with it.
int32_t signature_from(int32_t ret_type, int32_t nargs, const int32_t* arg_types, Sig* out) {
    if (ret_type < NPK_JIT_VOID || ret_type > NPK_JIT_PTR) {
        return fail(kOp, nullptr, NPK_ERR_JIT_BAD_TYPE, "result type %d is not a type", ret_type);
    }
    if (nargs < 0 || nargs > kMaxParams) {
        return fail(kOp, nullptr, NPK_ERR_JIT_TOO_MANY_PARAMS, "%d parameters (0..%d)", nargs, kMaxParams);
    }
    if (nargs > 0 && arg_types == nullptr) return fail(kOp, nullptr, NPK_ERR_NULL, "arg_types is NULL");
    Type args[kMaxParams];
    for (int32_t i = 0; i < nargs; ++i) {
        if (!valid_value_type(arg_types[i])) {
            return fail(kOp, nullptr, NPK_ERR_JIT_BAD_TYPE, "parameter %d has type %d, not a value type", i,
                        arg_types[i]);
        }
        args[i] = static_cast<Type>(arg_types[i]);
    }
    *out = make_sig(static_cast<Type>(ret_type), nargs, args);
    return 0;
}

}  // namespace
}  // namespace npk::codegen

using namespace npk::codegen;

extern "C" {

void* npk_jit_build_bytes_named(const void* code, size_t size, int32_t ret_type, int32_t nargs,
                                const int32_t* arg_types, uint32_t policy, const char* name) {
    Sig sig = 0;
    if (signature_from(ret_type, nargs, arg_types, &sig) != 0) return nullptr;
    if (name != nullptr) {
        if (const char* why = npk::tools::name_problem(name)) {
            fail(kOp, nullptr, NPK_ERR_INVALID_ARGUMENT, "not a function name: %s", why);
            return nullptr;
        }
    }
    if (code == nullptr) {
        fail(kOp, nullptr, NPK_ERR_NULL, "code is NULL");
        return nullptr;
    }
    if (size == 0 || size > NPK_JIT_VALIDATE_MAX_SIZE) {
        fail(kOp, code, size == 0 ? NPK_ERR_ZERO_SIZE : NPK_ERR_INVALID_ARGUMENT, "%zu bytes", size);
        return nullptr;
    }
    // Bytes for another CPU may validate, but can never run here.
    if ((policy & NPK_JIT_ARCH_MASK) != NPK_JIT_ARCH_HOST) {
        fail(kOp, code, NPK_ERR_INVALID_ARGUMENT, "the policy names an architecture: only host code can be installed");
        return nullptr;
    }
    if (!host_has_codegen()) {
        fail(kOp, code, NPK_ERR_UNSUPPORTED_HOST, "this CPU cannot run generated code");
        return nullptr;
    }
    void* page = npk::wildx::alloc(size);  // reports its own errors (quota, OS)
    if (page == nullptr) return nullptr;
    std::memcpy(page, code, size);
    trap_fill(static_cast<char*>(page) + size, npk::wildx::size(page) - size);
    npk_jit_finding f;
    if (npk_jit_validate(page, size, policy, &f) != 0) {
        const int32_t status = npk_last_error();
        npk::wildx::free_page(page);
        if (f.rule == NPK_OK) {  // not a finding: the validator's own refusal (policy bits, memory)
            fail(kOp, code, status, "the validator refused: %s", npk_last_error_message());
        } else {
            fail(kOp, code, f.rule, "offset %zu: %s: %s", f.offset, f.text, f.message);
        }
        return nullptr;
    }
    if (npk::wildx::seal(page) == 0 && publish_alone(page, size, sig, name != nullptr ? name : "", kOp)) {
        dump_function(Text(), name, sig, page, size);  // NPK_JIT_DUMP=asm: no program, the bytes
        return page;
    }
    npk::wildx::free_page(page);
    return nullptr;
}

void* npk_jit_build_bytes(const void* code, size_t size, int32_t ret_type, int32_t nargs, const int32_t* arg_types,
                          uint32_t policy) {
    return npk_jit_build_bytes_named(code, size, ret_type, nargs, arg_types, policy, nullptr);
}

}  // extern "C"
