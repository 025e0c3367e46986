// disasm.cpp — machine code as a listing (NPK_JIT_DUMP=asm) and
// npk_jit_disassemble, over the validator's decoders.
#include "codegen/code_index.h"
#include "codegen/dump.h"
#include "codegen/fail.h"

#include <npk/jitbuild.h>

#include "arch/arch.h"
#include "tools/tools.h"
#include "validate/decoder.h"

#include <cinttypes>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace npk::codegen {
namespace {

// The host's decoder; nullptr where the runtime generates no code.
const validate::Backend* host_backend() {
    if constexpr (arch::kCpu == arch::Cpu::x86_64) return &validate::x86_64_backend();
    if constexpr (arch::kCpu == arch::Cpu::aarch64) return &validate::aarch64_backend();
    return nullptr;
}

// An undecodable piece is shown this many bytes at a time (AArch64
// instructions are 4 bytes; x86-64 resynchronises byte by byte).
constexpr size_t kStep = arch::kCpu == arch::Cpu::aarch64 ? 4 : 1;

void line(Text& out, const uint8_t* code, size_t off, size_t n, const char* text) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(code) + off;
    out.add("  %016" PRIxPTR "  +%04zx  ", at, off);
    char hex[3 * 16 + 1] = "";
    size_t h = 0;
    for (size_t i = 0; i < n && i < 16; ++i) {
        h += static_cast<size_t>(std::snprintf(hex + h, sizeof hex - h, "%s%02x", i ? " " : "", code[off + i]));
    }
    out.add("%-24s  %s\n", hex, text);
}

}  // namespace

void code_listing(const uint8_t* code, size_t len, Text& out) {
    const validate::Backend* be = host_backend();
    alignas(std::max_align_t) unsigned char state[validate::kStateSize];
    if (be == nullptr || !be->open(state)) {
        out.add("  (no disassembler for %s)\n", arch::kCpuName);
        return;
    }
    for (size_t off = 0; off < len;) {
        validate::Insn in;
        const auto at = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(code) + off);
        const validate::Decoded d = be->decode(state, code + off, len - off, at, &in);
        if (d == validate::Decoded::ok && in.length > 0) {
            char text[160];
            be->format(state, code + off, len - off, at, text, sizeof text);
            line(out, code, off, in.length, text);
            off += in.length;
            continue;
        }
        const size_t n = len - off < kStep ? len - off : kStep;
        char text[64] = ".byte";
        for (size_t i = 0; i < n; ++i) {
            const size_t used = std::strlen(text);
            std::snprintf(text + used, sizeof text - used, "%s0x%02x", i ? ", " : " ", code[off + i]);
        }
        line(out, code, off, n, text);
        off += n;
    }
    be->close(state);
}

namespace {

// A function's span runs to the next one's start in a region chunk: the
// trapping fill between them (trap_fill: int3 bytes on x86-64, zero words
// on AArch64) is not its code. Built code never ends in it (its last
// instruction is a return or a jump).
size_t without_fill(const uint8_t* code, size_t len) {
    if constexpr (arch::kCpu == arch::Cpu::aarch64) {
        while (len >= 4 && std::memcmp(code + len - 4, "\0\0\0\0", 4) == 0) len -= 4;
    } else {
        while (len > 0 && code[len - 1] == 0xCC) --len;
    }
    return len;
}

}  // namespace
}  // namespace npk::codegen

using namespace npk::codegen;

extern "C" {

int32_t npk_jit_disassemble(const void* fn, char* buf, size_t n) {
    constexpr const char* op = "npk_jit_disassemble";
    if (fn == nullptr) return fail(op, nullptr, NPK_ERR_NULL, "function is NULL");
    Sig sig;
    const char* name = nullptr;
    size_t span = 0;
    if (!lookup(fn, &sig, &name, nullptr, &span)) {
        return fail(op, fn, NPK_ERR_JIT_NOT_FUNCTION, "not the start of a live built function");
    }
    if (buf == nullptr && n != 0) return fail(op, fn, NPK_ERR_NULL, "buf is NULL (with n %zu)", n);
    const auto* code = static_cast<const uint8_t*>(fn);
    const size_t len = without_fill(code, span);
    char fallback[npk::tools::kDefaultNameSize];
    name = npk::tools::name_or_default(name, reinterpret_cast<uintptr_t>(fn), fallback);
    char s[64];
    if (sig_text(sig, s, sizeof s) < 0) std::snprintf(s, sizeof s, "?");
    Text t;
    t.add(";; function %s %s at 0x%" PRIxPTR ", %zu bytes of %s code\n;; code\n", name, s,
          reinterpret_cast<uintptr_t>(fn), len, npk::arch::kCpuName);
    code_listing(code, len, t);
    if (!t.ok() || t.size() > INT32_MAX) {
        return fail(op, fn, NPK_ERR_OUT_OF_MEMORY, "no memory for the listing");
    }
    if (buf == nullptr) return static_cast<int32_t>(t.size());  // n == 0: the length asked for
    if (t.size() >= n) {
        return fail(op, fn, NPK_ERR_JIT_BUFFER_TOO_SMALL, "%zu bytes given, %zu needed", n, t.size() + 1);
    }
    std::memcpy(buf, t.c_str(), t.size() + 1);
    return static_cast<int32_t>(t.size());
}

}  // extern "C"
