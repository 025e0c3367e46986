// names.cpp — function names as the tools and npk_jit_name see them.
#include <npk/jitbuild.h>

#include "codegen/code_index.h"
#include "codegen/fail.h"
#include "tools/tools.h"

#include <cstdlib>
#include <cstring>

namespace npk::codegen {

void announce(const CodeIndex* idx, size_t end) {
    if (!tools::active() || idx->count == 0) return;
    auto* spans = static_cast<tools::CodeSpan*>(std::malloc(idx->count * sizeof(tools::CodeSpan)));
    if (spans == nullptr) return;  // the tools never hear of this code; it runs the same
    for (uint32_t i = 0; i < idx->count; ++i) {
        // A function's span runs to the next one's start: the trapping gap
        // between them counts as its own.
        const size_t from = idx->entries[i].offset;
        const size_t to = i + 1 < idx->count ? idx->entries[i + 1].offset : end;
        spans[i] = tools::CodeSpan{idx->base + from, to - from, idx->names != nullptr ? idx->names[i] : nullptr};
    }
    tools::code_published(idx->base, idx->span, spans, idx->count);
    std::free(spans);
}

}  // namespace npk::codegen

using namespace npk::codegen;

extern "C" {

int32_t npk_jit_name(const void* fn, char* buf, size_t n) {
    constexpr const char* op = "npk_jit_name";
    Sig sig;
    const char* name = nullptr;
    if (fn == nullptr) return fail(op, nullptr, NPK_ERR_NULL, "function is NULL");
    if (!lookup(fn, &sig, &name)) {
        return fail(op, fn, NPK_ERR_JIT_NOT_FUNCTION, "not the start of a live built function");
    }
    if (buf == nullptr) return fail(op, fn, NPK_ERR_NULL, "buf is NULL");
    char fallback[npk::tools::kDefaultNameSize];
    name = npk::tools::name_or_default(name, reinterpret_cast<uintptr_t>(fn), fallback);
    const size_t len = std::strlen(name);
    if (len >= n) return fail(op, fn, NPK_ERR_JIT_BUFFER_TOO_SMALL, "%zu bytes given, %zu needed", n, len + 1);
    std::memcpy(buf, name, len + 1);
    return static_cast<int32_t>(len);
}

}  // extern "C"
