#include "analysis/checked.h"

#include <algorithm>

#include "sema/sema.h"

namespace npk {

std::vector<const ast::FuncDecl*> checked_functions(const ast::Program& prog, bool strict) {
    std::vector<const ast::FuncDecl*> out;
    for (size_t i = 0; i < prog.modules.size(); ++i) {
        const ast::Module& m = *prog.modules[i];
        if (!strict && i != 0 && !m.is_root) continue;
        for (const auto& f : m.funcs) out.push_back(f.get());
        if (strict)
            for (const auto& t : m.types)
                for (const auto& f : t.methods) out.push_back(f.get());
    }
    return out;
}

std::vector<const ast::FuncDecl*> module_functions(const ast::Module& m, bool strict) {
    std::vector<const ast::FuncDecl*> out;
    for (const auto& f : m.funcs) out.push_back(f.get());
    if (strict) {
        for (const auto& t : m.types)
            for (const auto& f : t.methods) out.push_back(f.get());
        for (const auto& i : m.impls)
            for (const auto& f : i.methods) out.push_back(f.get());
    }
    std::stable_sort(out.begin(), out.end(), [](const ast::FuncDecl* a, const ast::FuncDecl* b) {
        return a->loc.offset < b->loc.offset;
    });
    return out;
}

const ast::Expr* operand_of(const ast::Stmt& s) {
    return ast::visit(s, ast::Overload{
        [](const ast::VarDecl&) -> const ast::Expr* { return nullptr; },
        [](const ast::If&) -> const ast::Expr* { return nullptr; },
        [](const ast::Defer&) -> const ast::Expr* { return nullptr; },
        [](const ast::Block&) -> const ast::Expr* { return nullptr; },
        [](const ast::Leave& n) -> const ast::Expr* { return n.value.get(); },
        [](const ast::ExprStmt& n) -> const ast::Expr* { return n.expr.get(); },
        [](const ast::While&) -> const ast::Expr* { return nullptr; },
        [](const ast::Break&) -> const ast::Expr* { return nullptr; },
        [](const ast::Continue&) -> const ast::Expr* { return nullptr; },
    });
}

const ast::Expr& strip_raw(const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Raw) return strip_raw(*static_cast<const ast::Raw&>(e).operand);
    if (e.kind == ast::ExprKind::Drop) return strip_raw(*static_cast<const ast::Drop&>(e).operand);
    return e;
}

const ast::Expr& strip_casts(const ast::Expr& e) {
    const ast::Expr* x = &strip_raw(e);
    while (x->kind == ast::ExprKind::Cast) x = &strip_raw(*static_cast<const ast::Cast&>(*x).operand);
    return *x;
}

bool has_attr(const Sema& s, const Callee& c, std::string_view name, size_t param) {
    for (const AttrInfo& a : s.attrs_of(c)) {
        if (a.name != name) continue;
        if (param == kAnyParam) return true;
        for (uint32_t p : a.params)
            if (p == param) return true;
    }
    return false;
}

}  // namespace npk
