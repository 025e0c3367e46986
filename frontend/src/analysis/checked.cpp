#include "analysis/checked.h"

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

const ast::Expr* operand_of(const ast::Stmt& s) {
    switch (s.kind) {
    case ast::StmtKind::Exit: return static_cast<const ast::Exit&>(s).value.get();
    case ast::StmtKind::Pass: return static_cast<const ast::Pass&>(s).value.get();
    case ast::StmtKind::Fail: return static_cast<const ast::Fail&>(s).value.get();
    case ast::StmtKind::Return: return static_cast<const ast::Return&>(s).value.get();
    case ast::StmtKind::ExprStmt: return static_cast<const ast::ExprStmt&>(s).expr.get();
    default: return nullptr;
    }
}

const ast::Expr& strip_raw(const ast::Expr& e) {
    if (e.kind == ast::ExprKind::Raw) return strip_raw(*static_cast<const ast::Raw&>(e).operand);
    if (e.kind == ast::ExprKind::Drop) return strip_raw(*static_cast<const ast::Drop&>(e).operand);
    return e;
}

}  // namespace npk
