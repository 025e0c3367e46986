#include "analysis/scope_exits.h"

#include "sema/sema.h"

namespace npk {

void register_decl(ScopeRecord& r, const ast::VarDecl& d, const Sema& s, const FuncInfo& fi,
                   const DropSwitches& on) {
    const int32_t slot = s.slot[d.id];
    if (slot < 0) return;
    const DropKind k = raii_kind(d, on);
    if (k != DropKind::None) r.entries.push_back({ExitEntry::What::Drop, k, slot, &d, nullptr});
    const Type* t = fi.slots[static_cast<size_t>(slot)].type;
    if (t && t->kind == TypeKind::Struct && s.drop_methods.count(t->st))
        r.entries.push_back({ExitEntry::What::Drop, DropKind::Impl, slot, &d, nullptr});
}

void register_defer(ScopeRecord& r, const ast::Defer& d) {
    r.entries.push_back({ExitEntry::What::Defer, DropKind::None, -1, nullptr, d.body.get()});
}

namespace {

void append_reversed(const ScopeRecord& r, ExitEntry::What what, int32_t moved, std::vector<ExitEntry>& out) {
    for (auto it = r.entries.rbegin(); it != r.entries.rend(); ++it)
        if (it->what == what && !(what == ExitEntry::What::Drop && it->slot == moved && moved >= 0))
            out.push_back(*it);
}

}  // namespace

std::vector<ExitEntry> exit_schedule(std::span<const ScopeRecord> active, ExitHow how, int32_t moved) {
    std::vector<ExitEntry> out;
    switch (how) {
    case ExitHow::Exit: break;
    case ExitHow::ScopeEnd:
        if (!active.empty()) {
            append_reversed(active.back(), ExitEntry::What::Drop, -1, out);
            append_reversed(active.back(), ExitEntry::What::Defer, -1, out);
        }
        break;
    case ExitHow::Leave:
        for (auto it = active.rbegin(); it != active.rend(); ++it)
            append_reversed(*it, ExitEntry::What::Drop, moved, out);
        for (auto it = active.rbegin(); it != active.rend(); ++it)
            append_reversed(*it, ExitEntry::What::Defer, -1, out);
        break;
    }
    return out;
}

int32_t moved_slot(const ast::Leave& l, const Sema& s) {
    if (!l.transfers() || !l.value || l.value->kind != ast::ExprKind::Name) return -1;
    return s.slot[l.value->id];
}

namespace {
ExitObserver g_observer = nullptr;
void* g_observer_ctx = nullptr;
}  // namespace

void set_exit_observer(ExitObserver obs, void* ctx) {
    g_observer = obs;
    g_observer_ctx = ctx;
}

void observe_exit(const ast::FuncDecl* fn, Loc at, ExitHow how, const std::vector<ExitEntry>& todo) {
    if (g_observer) g_observer(g_observer_ctx, fn, at, how, todo);
}

}  // namespace npk
