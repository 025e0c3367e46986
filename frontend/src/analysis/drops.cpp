#include "analysis/drops.h"

#include "analysis/checked.h"

#include <string_view>
#include <utility>

namespace npk {
namespace {

// `f(...)` → ("", "f"); `T.m(...)` → ("T", "m"); anything else → ("", "").
std::pair<std::string_view, std::string_view> callee_of(const ast::Expr& init) {
    const ast::Expr& e = strip_raw(init);
    if (e.kind != ast::ExprKind::Call) return {};
    const ast::Expr& c = *static_cast<const ast::Call&>(e).callee;
    if (c.kind == ast::ExprKind::Name) return {"", static_cast<const ast::Name&>(c).name};
    if (c.kind == ast::ExprKind::Member) {
        const auto& m = static_cast<const ast::Member&>(c);
        if (m.object->kind == ast::ExprKind::Name) return {static_cast<const ast::Name&>(*m.object).name, m.member};
    }
    return {};
}

}  // namespace

const char* drop_kind_name(DropKind k) {
    switch (k) {
    case DropKind::None: return "none";
    case DropKind::Wild: return "wild";
    case DropKind::Wildx: return "wildx";
    case DropKind::Arena: return "arena";
    case DropKind::Jit: return "jit";
    case DropKind::Impl: return "impl";
    }
    return "?";
}

DropSwitches drop_switches(const ast::Program& prog) {
    DropSwitches on;
    for (const auto& m : prog.modules) {
        for (const ast::StructDecl& s : m->structs) {
            if (s.name == "NitpickWildRaii") on.wild = true;
            if (s.name == "NitpickWildxRaii") on.wildx = true;
            if (s.name == "NitpickHandleArenaRaii") on.arena = true;
            if (s.name == "NitpickJitFnRaii") on.jit = true;
        }
    }
    return on;
}

DropKind raii_kind(const ast::VarDecl& d, const DropSwitches& on) {
    if (!d.init || !on.any()) return DropKind::None;
    const bool wildx = (d.quals & ast::Q_WILDX) != 0;
    const bool wild = (d.quals & ast::Q_WILD) != 0;
    // wild S:x = S{...}: a struct on the heap, not a pointer, not wildx.
    if (on.wild && wild && !wildx && d.type.ptr == ast::TypeRef::Ptr::None &&
        d.type.base == ast::TypeRef::Base::Named && d.init->kind == ast::ExprKind::StructLit)
        return DropKind::Wild;
    const auto [owner, name] = callee_of(*d.init);
    // wildx_alloc only as written, without raw (§9.2).
    if (on.wildx && wildx && d.init->kind == ast::ExprKind::Call && owner.empty() &&
        (name == "wildx_alloc" || name == "npk_wildx_alloc"))
        return DropKind::Wildx;
    if (on.jit && wildx && owner == "Jit" && name.substr(0, 8) == "compile_") return DropKind::Jit;
    if (on.arena && ((owner == "HandleArena" && name == "create") || (owner.empty() && name == "npk_handle_arena_create")))
        return DropKind::Arena;
    return DropKind::None;
}

}  // namespace npk
