#include "run/drops.h"

#include <npk/handle.h>
#include <npk/wildx.h>

#include <cstdio>

namespace npk {

void release_raii(DropKind k, uint64_t word) {
    void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(word));
    switch (k) {
    case DropKind::Wild: npk_free(p); break;
    case DropKind::Wildx:
    case DropKind::Jit: npk_wildx_free(p); break;
    case DropKind::Arena: npk_handle_arena_destroy(static_cast<int64_t>(word)); break;
    case DropKind::Impl:
    case DropKind::None: break;  // not a resource of the runtime
    }
}

void trace_drop(const ast::Program& prog, DropKind k, const std::string& struct_name,
                const std::string& binding, const std::string& func, Loc decl) {
    std::string kind = drop_kind_name(k);
    if (k == DropKind::Impl) kind += ":" + struct_name;
    std::string path = "?";
    for (const auto& m : prog.modules)
        if (m->file == decl.file) path = m->path;
    std::fflush(stdout);
    std::fprintf(stderr, "npk: drop %s '%s' in %s (%s:%u:%u)\n", kind.c_str(), binding.c_str(), func.c_str(),
                 path.c_str(), decl.line, decl.col);
}

}  // namespace npk
