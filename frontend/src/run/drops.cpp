#include "run/drops.h"

#include <npk/handle.h>
#include <npk/wildx.h>

#include <cstdio>

namespace npk {

uint64_t release_raii(DropKind k, uint64_t word) {
    void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(word));
    switch (k) {
    case DropKind::Wild: npk_free(p); return 0;
    case DropKind::Wildx:
    case DropKind::Jit: return static_cast<uint64_t>(static_cast<int64_t>(npk_wildx_free(p)));
    case DropKind::Arena: npk_handle_arena_destroy(static_cast<int64_t>(word)); return 0;
    case DropKind::Impl:
    case DropKind::None: break;  // not a resource of the runtime
    }
    return 0;
}

uint64_t call_heap_builtin(Builtin b, uint64_t word) {
    void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(word));
    switch (b) {
    case Builtin::Alloc: return reinterpret_cast<uintptr_t>(npk_alloc(word));
    case Builtin::Free: npk_free(p); return 0;
    case Builtin::WildxAlloc: return reinterpret_cast<uintptr_t>(npk_wildx_alloc(word));
    case Builtin::WildxSeal: return static_cast<uint64_t>(static_cast<int64_t>(npk_wildx_seal(p)));
    case Builtin::WildxFree: return static_cast<uint64_t>(static_cast<int64_t>(npk_wildx_free(p)));
    case Builtin::PrintI32:
    case Builtin::PrintI64: break;
    }
    return 0;
}

RuntimeRole builtin_role(Builtin b) {
    switch (b) {
    case Builtin::Alloc: return RuntimeRole::HeapAlloc;
    case Builtin::Free: return RuntimeRole::HeapFree;
    case Builtin::WildxAlloc: return RuntimeRole::PageAlloc;
    case Builtin::WildxSeal: return RuntimeRole::PageSeal;
    case Builtin::WildxFree: return RuntimeRole::PageFree;
    case Builtin::PrintI32:
    case Builtin::PrintI64: break;
    }
    return RuntimeRole::None;
}

RuntimeRole release_role(DropKind k) {
    switch (k) {
    case DropKind::Wild: return RuntimeRole::HeapFree;
    case DropKind::Wildx:
    case DropKind::Jit: return RuntimeRole::PageFree;
    case DropKind::Arena: return RuntimeRole::ArenaDestroy;
    case DropKind::Impl:
    case DropKind::None: break;
    }
    return RuntimeRole::None;
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
