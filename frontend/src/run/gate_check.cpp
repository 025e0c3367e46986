// The gate's checks of runtime calls (gate.h): releases, uses of
// builders, regions, arenas and handles, and calls through code. Each
// refusal names the callee and the resource, with a note at its release.
#include <npk/wildx.h>

#include <cstdio>
#include <unordered_map>

#include "run/gate.h"

namespace npk {

namespace {

std::string hex(uint64_t p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(p));
    return buf;
}

}  // namespace

namespace {

const std::unordered_map<std::string, RuntimeRole>& role_table() {
    using R = RuntimeRole;
    // The runtime table (run/externs.cpp) knows the heap roles; these are
    // (and take precedence: npk_jit_build also consumes its builder)
    // the functions of npk/jitbuild.h and npk/handle.h whose arguments are
    // resources the gate tracks. test_runtime_externs.cpp checks that
    // every name here is in that table.
    static const std::unordered_map<std::string, RuntimeRole> roles = {
        {"npk_jit_builder_new", R::BuilderNew},   {"npk_jit_builder_free", R::BuilderFree},
        {"npk_jit_builder_error", R::BuilderUse}, {"npk_jit_builder_name", R::BuilderUse},
        {"npk_jit_param", R::BuilderUse},         {"npk_jit_var", R::BuilderUse},
        {"npk_jit_var_type", R::BuilderUse},      {"npk_jit_const_i64", R::BuilderUse},
        {"npk_jit_const_f64", R::BuilderUse},     {"npk_jit_mov", R::BuilderUse},
        {"npk_jit_op", R::BuilderUse},            {"npk_jit_neg", R::BuilderUse},
        {"npk_jit_not", R::BuilderUse},           {"npk_jit_convert", R::BuilderUse},
        {"npk_jit_load", R::BuilderUse},          {"npk_jit_store", R::BuilderUse},
        {"npk_jit_label", R::BuilderUse},         {"npk_jit_bind", R::BuilderUse},
        {"npk_jit_jump", R::BuilderUse},          {"npk_jit_branch_if", R::BuilderUse},
        {"npk_jit_call_native", R::BuilderUse},   {"npk_jit_ret", R::BuilderUse},
        {"npk_jit_build", R::Build},              {"npk_jit_region_new", R::RegionNew},
        {"npk_jit_region_add", R::RegionAdd},     {"npk_jit_region_seal", R::RegionSeal},
        {"npk_jit_region_free", R::RegionFree},   {"npk_jit_region_count", R::RegionUse},
        {"npk_jit_name", R::FunctionQuery},       {"npk_jit_signature", R::FunctionQuery},
        {"npk_handle_arena_create", R::ArenaCreate}, {"npk_handle_arena_destroy", R::ArenaDestroy},
        {"npk_handle_alloc", R::HandleAlloc},     {"npk_handle_deref", R::HandleDeref},
        {"npk_handle_free", R::HandleFree},
    };
    return roles;
}

}  // namespace

RuntimeRole gate_role_of(const std::string& name) {
    auto it = role_table().find(name);
    return it == role_table().end() ? RuntimeRole::None : it->second;
}

std::vector<std::string> gate_role_names() {
    std::vector<std::string> out;
    for (const auto& [name, role] : role_table()) out.push_back(name);
    return out;
}

// A released resource whose word now names a newer live one: a call with
// the old value would reach the new resource.
bool RuntimeGate::reused(uint64_t id) const {
    const Resource& r = res(id);
    if (r.live) return false;
    auto it = objects_.find(r.word);
    return it != objects_.end() && it->second != id;
}

bool RuntimeGate::unmapped_behind(const Resource& r) const {
    return r.kind == Kind::Page && r.live &&
           npk_wildx_id(reinterpret_cast<const void*>(static_cast<uintptr_t>(r.word))) != r.alloc_no;
}

Refusal RuntimeGate::unmapped(const std::string& callee, const Resource& r, int32_t code) const {
    const bool reused = npk_wildx_id(reinterpret_cast<const void*>(static_cast<uintptr_t>(r.word))) != 0;
    return {"'" + callee + "' refused: this W^X page was unmapped behind the runtime's back (munmap); " +
                (reused ? "its address now holds a newer allocation" : "nothing lives at its address now"),
            code, r.made, "it was made here"};
}

Refusal RuntimeGate::stale(const std::string& callee, uint64_t id, int32_t code) const {
    const Resource& r = res(id);
    return {"'" + callee + "' refused: its " + kind_name(r.kind) + " was already released" +
                (r.kind == Kind::Builder ? " (freed, built, or added to a region)" : ""),
            code, r.released, "released here"};
}

Refusal RuntimeGate::check(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& args) const {
    switch (role) {
    case RuntimeRole::HeapFree:
    case RuntimeRole::PageFree:
    case RuntimeRole::BuilderFree:
    case RuntimeRole::RegionFree:
    case RuntimeRole::ArenaDestroy:
    case RuntimeRole::HandleFree: return args.empty() ? Refusal{} : check_release(role, callee, args[0]);
    case RuntimeRole::CodeCall:
    case RuntimeRole::CheckedCall:
    case RuntimeRole::FunctionQuery: return args.empty() ? Refusal{} : check_code(role, callee, args[0]);
    case RuntimeRole::PageSeal:
    case RuntimeRole::BuilderUse:
    case RuntimeRole::Build:
    case RuntimeRole::RegionAdd:
    case RuntimeRole::RegionSeal:
    case RuntimeRole::RegionUse:
    case RuntimeRole::HandleAlloc:
    case RuntimeRole::HandleDeref: return check_use(role, callee, args);
    case RuntimeRole::None:
    case RuntimeRole::HeapAlloc:
    case RuntimeRole::PageAlloc:
    case RuntimeRole::BuilderNew:
    case RuntimeRole::RegionNew:
    case RuntimeRole::ArenaCreate: return {};
    }
    return {};
}

Refusal RuntimeGate::check_release(RuntimeRole role, const std::string& callee, GateWord a) const {
    if (a.word == 0) return {};  // every release of NULL is a no-op the runtime reports
    Kind want = Kind::Block;
    const char* from = "alloc";
    switch (role) {
    case RuntimeRole::PageFree: want = Kind::Page, from = "wildx_alloc or a build"; break;
    case RuntimeRole::BuilderFree: want = Kind::Builder, from = "npk_jit_builder_new"; break;
    case RuntimeRole::RegionFree: want = Kind::Region, from = "npk_jit_region_new"; break;
    case RuntimeRole::ArenaDestroy: want = Kind::Arena, from = "npk_handle_arena_create"; break;
    case RuntimeRole::HandleFree: want = Kind::Handle, from = "npk_handle_alloc"; break;
    case RuntimeRole::HeapFree:
    case RuntimeRole::None:
    case RuntimeRole::HeapAlloc:
    case RuntimeRole::PageAlloc:
    case RuntimeRole::PageSeal:
    case RuntimeRole::CodeCall:
    case RuntimeRole::CheckedCall:
    case RuntimeRole::FunctionQuery:
    case RuntimeRole::BuilderNew:
    case RuntimeRole::BuilderUse:
    case RuntimeRole::Build:
    case RuntimeRole::RegionNew:
    case RuntimeRole::RegionAdd:
    case RuntimeRole::RegionSeal:
    case RuntimeRole::RegionUse:
    case RuntimeRole::ArenaCreate:
    case RuntimeRole::HandleAlloc:
    case RuntimeRole::HandleDeref: break;  // a heap block (npk_free), or not a release
    }
    uint64_t id = resolve(a, {Kind::Block, Kind::Page, Kind::Builder, Kind::Region, Kind::RegionFn, Kind::Arena,
                              Kind::Handle, Kind::HandleView});
    if (id == 0) id = released_at(a.word);
    if (id == 0) {
        // The runtime checks arena ids and handles by generation itself.
        if (want == Kind::Arena || want == Kind::Handle) return {};
        return {"'" + callee + "' refused: " + hex(a.word) + " is not a live " + kind_name(want) + " from " + from +
                    " (foreign, or inside one)",
                kFaultBadFree};
    }
    const Resource& r = res(id);
    if ((want == Kind::Arena || want == Kind::Handle) && r.kind == want && !reused(id)) return {};
    if (want == Kind::Block && r.kind == Kind::Page)
        return {"'" + callee + "' refused: " + hex(a.word) + " is a W^X page from wildx_alloc: release it with wildx_free",
                kFaultBadFree, r.made, "it was made here"};
    if (r.kind != want)
        return {"'" + callee + "' refused: " + hex(a.word) + " is a " + kind_name(r.kind) + ", not a " +
                    kind_name(want) + " from " + from + " (the wrong release for it)",
                kFaultBadFree, r.made, "it was made here"};
    if (!r.live)
        return {"'" + callee + "' refused: this " + kind_name(r.kind) + " was already released (a double release)" +
                    (reused(id) ? "; its value now names a newer one" : ""),
                kFaultBadFree, r.released, "released here"};
    if (unmapped_behind(r)) return unmapped(callee, r, kFaultBadFree);
    if (a.word != r.word)
        return {"'" + callee + "' refused: " + hex(a.word) + " points inside a " + kind_name(r.kind) +
                    ", not at its start",
                kFaultBadFree, r.made, "it was made here"};
    return {};
}

// An argument that must be a live resource of kind `want` (NULL is left
// to the runtime, which refuses it with -1). `strict`: a word the gate
// never handed out is refused too (the runtime would follow it).
Refusal RuntimeGate::check_use(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& args) const {
    auto need = [&](size_t i, Kind want, bool strict) -> Refusal {
        if (i >= args.size() || args[i].word == 0) return {};
        uint64_t id = resolve(args[i], {want});
        if (id == 0) id = released_at(args[i].word);
        if (id == 0 || res(id).kind != want) {
            if (!strict) return {};
            return {"'" + callee + "' refused: " + hex(args[i].word) + " is not a live " + kind_name(want),
                    kFaultStaleResource};
        }
        if (res(id).live) return unmapped_behind(res(id)) ? unmapped(callee, res(id), kFaultStaleResource) : Refusal{};
        // The runtime refuses a stale arena id or handle by its generation,
        // unless the id now names a newer arena.
        if ((want == Kind::Arena || want == Kind::Handle) && !reused(id)) return {};
        return stale(callee, id, kFaultStaleResource);
    };
    switch (role) {
    case RuntimeRole::PageSeal: return need(0, Kind::Page, false);
    case RuntimeRole::BuilderUse:
    case RuntimeRole::Build: return need(0, Kind::Builder, true);
    case RuntimeRole::RegionAdd: {
        Refusal r = need(0, Kind::Region, true);
        return r.refused() ? r : need(1, Kind::Builder, true);
    }
    case RuntimeRole::RegionSeal:
    case RuntimeRole::RegionUse: return need(0, Kind::Region, true);
    case RuntimeRole::HandleAlloc: return need(0, Kind::Arena, false);
    case RuntimeRole::HandleDeref: return need(0, Kind::Handle, false);
    case RuntimeRole::None:
    case RuntimeRole::HeapAlloc:
    case RuntimeRole::HeapFree:
    case RuntimeRole::PageAlloc:
    case RuntimeRole::PageFree:
    case RuntimeRole::CodeCall:
    case RuntimeRole::CheckedCall:
    case RuntimeRole::FunctionQuery:
    case RuntimeRole::BuilderNew:
    case RuntimeRole::BuilderFree:
    case RuntimeRole::RegionNew:
    case RuntimeRole::RegionFree:
    case RuntimeRole::ArenaCreate:
    case RuntimeRole::ArenaDestroy:
    case RuntimeRole::HandleFree: return {};  // checked elsewhere, or nothing to check
    }
    return {};
}

Refusal RuntimeGate::check_code(RuntimeRole role, const std::string& callee, GateWord a) const {
    const uint64_t p = a.word;
    if (role == RuntimeRole::CodeCall && p == 0)
        return {"Call through a NULL code page ('" + callee + "'; did compiling it fail?)", 103};
    uint64_t id = resolve(a, {Kind::Page, Kind::RegionFn});
    if (id == 0 && p != 0) id = released_at(p);
    if (id != 0) {
        const Resource& r = res(id);
        if (!r.live) {
            Refusal s = stale(callee, id, kFaultBadCodePage);
            s.message = "Call through released code: " + s.message;
            return s;
        }
        if (unmapped_behind(r)) {
            Refusal u = unmapped(callee, r, kFaultBadCodePage);
            u.message = "Call through code that is gone: " + u.message;
            return u;
        }
        if (r.kind == Kind::RegionFn && !r.sealed)
            return {"'" + callee + "' refused: this function's region is not sealed yet (call Jit.region_seal first)",
                    kFaultBadCodePage, r.made, "added to its region here"};
    }
    if (role != RuntimeRole::CodeCall) return {};  // the runtime checks the rest itself
    int32_t state = npk_wildx_state(reinterpret_cast<const void*>(static_cast<uintptr_t>(p)));
    if (state == NPK_WILDX_EXECUTABLE) return {};
    return {"Call through code page " + hex(p) + " ('" + callee + "') refused: " +
                (state == NPK_WILDX_WRITABLE ? "it is not sealed (call wildx_seal first)"
                                             : "it is not a live page (freed, or never from wildx_alloc)"),
            kFaultBadCodePage};
}

}  // namespace npk
