// api/validate.cpp — the C ABI of npk/validate.h: argument checks and the
// error made from a finding.
#include <npk/validate.h>

#include "arch/arch.h"
#include "core/errors.h"
#include "validate/entries.h"
#include "validate/rules.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace npk::validate {
namespace {

constexpr uint32_t kPolicyBits = NPK_JIT_ALLOW_PRIVILEGED | NPK_JIT_ALLOW_SYSCALL | NPK_JIT_ALLOW_TRAP |
                                 NPK_JIT_ALLOW_INDIRECT | NPK_JIT_SELF_CONTAINED | NPK_JIT_ARCH_MASK;

// The architecture `policy` names; false if it names none we decode.
bool arch_of(uint32_t policy, Arch* out, int32_t* error) {
    switch (policy & NPK_JIT_ARCH_MASK) {
    case NPK_JIT_ARCH_X86_64: *out = Arch::x86_64; return true;
    case NPK_JIT_ARCH_AARCH64: *out = Arch::aarch64; return true;
    case NPK_JIT_ARCH_HOST:
        switch (arch::kCpu) {
        case arch::Cpu::x86_64: *out = Arch::x86_64; return true;
        case arch::Cpu::aarch64: *out = Arch::aarch64; return true;
        case arch::Cpu::other: break;
        }
        *error = NPK_ERR_UNSUPPORTED_HOST;
        return false;
    default: *error = NPK_ERR_INVALID_ARGUMENT; return false;
    }
}

int32_t reject(const void* code, int32_t error, const char* detail) {
    return fail(NPK_FACILITY_VALIDATE, "code", Subject::pointer(code), error, detail);
}

}  // namespace
}  // namespace npk::validate

using namespace npk::validate;

extern "C" NPK_API int32_t npk_jit_validate(const void* code, size_t size, uint32_t policy,
                                            npk_jit_finding* out) {
    npk_jit_finding local;
    npk_jit_finding* f = out != nullptr ? out : &local;
    std::memset(f, 0, sizeof *f);

    if (code == nullptr) return reject(code, NPK_ERR_NULL, "code");
    if (size == 0) return reject(code, NPK_ERR_ZERO_SIZE, nullptr);
    if (size > NPK_JIT_VALIDATE_MAX_SIZE) return reject(code, NPK_ERR_INVALID_ARGUMENT, "size above NPK_JIT_VALIDATE_MAX_SIZE");
    if ((policy & ~kPolicyBits) != 0) return reject(code, NPK_ERR_INVALID_ARGUMENT, "unknown policy bits");
    Request r;
    int32_t error = NPK_OK;
    if (!arch_of(policy, &r.arch, &error)) {
        return reject(code, error, error == NPK_ERR_INVALID_ARGUMENT ? "unknown architecture" : nullptr);
    }
    r.code = static_cast<const uint8_t*>(code);
    r.size = size;
    r.address = reinterpret_cast<uintptr_t>(code);
    r.policy = policy;
    r.known_entry = known_function_entry;

    const int32_t rule = check(r, f);
    if (rule == NPK_OK) return 0;
    if (rule == NPK_ERR_OUT_OF_MEMORY) return reject(code, rule, f->message);
    char detail[NPK_JIT_FINDING_TEXT + NPK_JIT_FINDING_MESSAGE + 48];
    std::snprintf(detail, sizeof detail, "offset %zu: %s: %s", f->offset, f->text, f->message);
    return reject(code, rule, detail);
}
