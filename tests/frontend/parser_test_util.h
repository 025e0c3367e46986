// Helpers for the parser tests (test_parser*.cpp): parse a text as one
// file, render statements and expressions, and find a syntax error by
// line, column and text.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "diag/diag.h"
#include "syntax/ast.h"
#include "syntax/ast_dump.h"
#include "syntax/parser.h"

namespace npk::test {

using namespace npk::ast;


struct Parsed {
    SourceManager sources;
    Diagnostics diag{sources};
    Program prog;
    Module* mod = nullptr;
    bool ok = false;
};

inline std::unique_ptr<Parsed> parse(const std::string& text) {
    auto p = std::make_unique<Parsed>();
    uint32_t id = p->sources.add("t.npk", "/t.npk", text);
    p->prog.modules.push_back(std::make_unique<Module>());
    p->mod = p->prog.modules.back().get();
    p->ok = parse_module(p->sources, id, p->prog, *p->mod, p->diag);
    return p;
}

inline std::string diags(const Parsed& p) {
    std::string s;
    for (const auto& d : p.diag.all()) s += p.diag.format_line(d) + "\n";
    return s;
}

// Parses `text` as the body of a function and returns the statements'
// dumps, space separated.
inline std::string body(const std::string& stmts) {
    auto p = parse("func:f = int32() {\n" + stmts + "\n};\n");
    INFO(stmts << "\n" << diags(*p));
    REQUIRE(p->ok);
    REQUIRE(p->mod->funcs.size() == 1);
    std::string s;
    for (const auto& st : p->mod->funcs[0]->body->stmts) s += (s.empty() ? "" : " ") + dump_stmt(*st);
    return s;
}

// The tree of one expression.
inline std::string expr(const std::string& e) {
    auto p = parse("func:f = int32() {\n" + e + ";\n};\n");
    INFO(e << "\n" << diags(*p));
    REQUIRE(p->ok);
    const auto& stmts = p->mod->funcs.at(0)->body->stmts;
    REQUIRE(stmts.size() == 1);
    REQUIRE(stmts[0]->kind == StmtKind::ExprStmt);
    return dump_expr(*static_cast<const ExprStmt&>(*stmts[0]).expr);
}

inline bool has_error(const Parsed& p, uint32_t line, uint32_t col, const std::string& frag) {
    for (const auto& d : p.diag.all())
        if (d.severity == Severity::Error && d.loc.line == line && d.loc.col == col &&
            d.message.find(frag) != std::string::npos && d.code.empty())
            return true;
    return false;
}

// `text` must fail with exactly one error, at line:col, containing frag.
inline void expect_error(const std::string& text, uint32_t line, uint32_t col, const std::string& frag) {
    auto p = parse(text);
    INFO("input:\n" << text << "\ndiagnostics:\n" << diags(*p));
    CHECK_FALSE(p->ok);
    CHECK(p->diag.error_count() == 1);
    CHECK(has_error(*p, line, col, frag));
}

// Collects every Expr/Stmt id of a statement tree.
inline void collect_ids(const Expr& e, std::multiset<uint32_t>& ids);
inline void collect_ids(const Stmt& s, std::multiset<uint32_t>& ids) {
    ids.insert(s.id);
    switch (s.kind) {
    case StmtKind::VarDecl: {
        const auto& d = static_cast<const VarDecl&>(s);
        if (d.init) collect_ids(*d.init, ids);
        break;
    }
    case StmtKind::If: {
        const auto& n = static_cast<const If&>(s);
        collect_ids(*n.cond, ids);
        collect_ids(*n.then_body, ids);
        if (n.else_body) collect_ids(*n.else_body, ids);
        break;
    }
    case StmtKind::Defer: collect_ids(*static_cast<const Defer&>(s).body, ids); break;
    case StmtKind::Block:
        for (const auto& x : static_cast<const Block&>(s).stmts) collect_ids(*x, ids);
        break;
    case StmtKind::Leave:
        if (static_cast<const Leave&>(s).value) collect_ids(*static_cast<const Leave&>(s).value, ids);
        break;
    case StmtKind::ExprStmt: collect_ids(*static_cast<const ExprStmt&>(s).expr, ids); break;
    case StmtKind::While:
        collect_ids(*static_cast<const While&>(s).cond, ids);
        collect_ids(*static_cast<const While&>(s).body, ids);
        break;
    case StmtKind::Break:
    case StmtKind::Continue: break;
    }
}
inline void collect_ids(const Expr& e, std::multiset<uint32_t>& ids) {
    ids.insert(e.id);
    switch (e.kind) {
    case ExprKind::Unary: collect_ids(*static_cast<const Unary&>(e).operand, ids); break;
    case ExprKind::Binary:
        collect_ids(*static_cast<const Binary&>(e).lhs, ids);
        collect_ids(*static_cast<const Binary&>(e).rhs, ids);
        break;
    case ExprKind::Assign:
        collect_ids(*static_cast<const Assign&>(e).target, ids);
        collect_ids(*static_cast<const Assign&>(e).value, ids);
        break;
    case ExprKind::Call:
        collect_ids(*static_cast<const Call&>(e).callee, ids);
        for (const auto& a : static_cast<const Call&>(e).args) collect_ids(*a, ids);
        break;
    case ExprKind::Member: collect_ids(*static_cast<const Member&>(e).object, ids); break;
    case ExprKind::StructLit:
        for (const auto& f : static_cast<const StructLit&>(e).fields) collect_ids(*f.value, ids);
        break;
    case ExprKind::Raw: collect_ids(*static_cast<const Raw&>(e).operand, ids); break;
    case ExprKind::Drop: collect_ids(*static_cast<const Drop&>(e).operand, ids); break;
    case ExprKind::Cast: collect_ids(*static_cast<const Cast&>(e).operand, ids); break;
    case ExprKind::Index:
        collect_ids(*static_cast<const Index&>(e).object, ids);
        collect_ids(*static_cast<const Index&>(e).index, ids);
        break;
    default: break;
    }
}

}  // namespace npk::test
