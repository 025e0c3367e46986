// Values of a struct with an impl:Drop are not copied (issue 16).
//
// Every local of such a struct is dropped when its block ends (the
// interpreter, analysis/drops.h: DropKind::Impl), so `S:b = a;` or
// `b = a;` would run `drop` on two copies of one value: whatever the
// value owns would be released twice. Upstream lets the copy happen and
// drops both; this project chooses the error (docs/language.md, "Values
// with a drop method"): a local of such a type starts from a fresh value
// (a struct literal or a call's result), and `pass a` moves one out (the
// moved binding is not dropped). Passing one to a parameter is not a
// copy that drops: parameters are never dropped.
#include <string>
#include <unordered_set>

#include "analysis/analyses.h"
#include "analysis/cfg.h"
#include "analysis/checked.h"

namespace npk {
namespace {

constexpr const char* kDoubleRelease = "ARIA-022";

// Reads the declarations and assignments of a function's graph (every
// block: a defer body too, where it is written and where it runs, each
// reported once).
class CopyCheck {
public:
    CopyCheck(const Sema& sema, Diagnostics& diag) : s_(sema), diag_(diag) {}

    void function(const ast::FuncDecl& f, const Cfg& g) {
        fi_ = &s_.func(&f);
        for (const CfgBlock& b : g.blocks)
            for (const Event& e : b.events) event(e);
    }

private:
    void event(const Event& e) {
        switch (e.kind) {
        case EventKind::Declare: {
            const int32_t slot = s_.slot[e.decl->id];
            if (e.decl->init && slot >= 0) check(*e.decl->init, fi_->slots[static_cast<size_t>(slot)].type, e.decl->name);
            return;
        }
        case EventKind::Eval: {
            if (e.expr->kind != ast::ExprKind::Assign) return;
            const auto& a = static_cast<const ast::Assign&>(*e.expr);
            if (a.target->kind == ast::ExprKind::Name)
                check(*a.value, s_.type_of(*a.target), static_cast<const ast::Name&>(*a.target).name);
            return;
        }
        case EventKind::Drop:
        case EventKind::DeferBegin:
        case EventKind::DeferEnd:
        case EventKind::DeferWritten:
        case EventKind::Leave:
        case EventKind::ScopeEnd: return;
        }
    }

    // `to` (a local of type `t`) is given `value`.
    void check(const ast::Expr& value, const Type* t, const std::string& to) {
        if (!t || t->kind != TypeKind::Struct || !s_.drop_methods.count(t->st)) return;
        const ast::Expr& v = strip_raw(value);
        if (v.kind == ast::ExprKind::StructLit || v.kind == ast::ExprKind::Call) return;  // a fresh value
        if (!reported_.insert(value.id).second) return;
        diag_.error(value.loc, kDoubleRelease,
                    "A value of '" + t->st->name + "' cannot be copied: it has a drop method, and '" + to +
                        "' and the value it copies would both be dropped (a double release); "
                        "build a new value, or move this one out with 'pass'");
    }

    const Sema& s_;
    Diagnostics& diag_;
    const FuncInfo* fi_ = nullptr;
    std::unordered_set<uint32_t> reported_;
};

}  // namespace

void check_drop_copies(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                       Shared& shared) {
    CopyCheck c(sema, diag);
    for (const ast::FuncDecl* f : checked_functions(prog, opts.strict))
        if (f->body) c.function(*f, shared.graphs.of(*f));
}

}  // namespace npk
