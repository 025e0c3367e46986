// The visitors generated from syntax/ast.h's lists of node kinds
// (issue 16): for_each_child / walk_expr / walk_stmt_exprs reach exactly
// the nodes a hand-written walk reaches, kind names come from the list,
// and every kind is seen by a parse of a program that uses them all.
#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <string>

#include "parser_test_util.h"

namespace npk::test {
namespace {

// A body using every statement and expression kind.
const char* kAllKinds =
    "func:a = int32(int8->:p) {\n"
    "  int64:x = 1 + 2 * 3;\n"
    "  if (x > 1 && !false) { exit x; } else { defer { f(\"s\"); } }\n"
    "  while (x < 9) { x = x + 1; if (x == 4) { continue; } break; }\n"
    "  { p[x] = @cast<int8>(x); s.v = -x; }\n"
    "  drop g(S{v: raw h(1)});\n"
    "  fail 3;\n"
    "  pass x;\n"
    "  return;\n"
    "};\n";

void generated_ids(const Stmt& s, std::multiset<uint32_t>& ids) {
    ids.insert(s.id);
    for_each_child(
        s, [&](const Expr& e) { walk_expr(e, [&](const Expr& x) { ids.insert(x.id); }); },
        [&](const Stmt& x) { generated_ids(x, ids); });
}

void kinds_of(const Stmt& s, std::set<std::string>& seen) {
    seen.insert(kind_name(s.kind));
    for_each_child(
        s, [&](const Expr& e) { walk_expr(e, [&](const Expr& x) { seen.insert(kind_name(x.kind)); }); },
        [&](const Stmt& x) { kinds_of(x, seen); });
}

}  // namespace

TEST_CASE("ast: the generated traversal reaches every node a hand-written walk does", "[ast]") {
    auto p = parse(kAllKinds);
    INFO(diags(*p));
    REQUIRE(p->ok);
    std::multiset<uint32_t> by_hand, generated;
    collect_ids(*p->mod->funcs[0]->body, by_hand);
    generated_ids(*p->mod->funcs[0]->body, generated);
    CHECK(generated == by_hand);
    // walk_stmt_exprs sees every expression once.
    size_t exprs = 0;
    walk_stmt_exprs(*p->mod->funcs[0]->body, [&](const Expr&) { ++exprs; });
    size_t stmts = 0;
    std::function<void(const Stmt&)> count = [&](const Stmt& s) {
        ++stmts;
        for_each_child(s, [](const Expr&) {}, count);
    };
    count(*p->mod->funcs[0]->body);
    CHECK(exprs + stmts == by_hand.size());
}

TEST_CASE("ast: every node kind of the lists is named and parsed", "[ast]") {
    auto p = parse(kAllKinds);
    REQUIRE(p->ok);
    std::set<std::string> seen;
    kinds_of(*p->mod->funcs[0]->body, seen);
    std::set<std::string> listed;
#define NPK_TEST_KIND(K) listed.insert(#K);
    NPK_EXPR_KINDS(NPK_TEST_KIND)
    NPK_STMT_KINDS(NPK_TEST_KIND)
#undef NPK_TEST_KIND
    CHECK(seen == listed);
    CHECK(std::string(kind_name(StmtKind::Leave)) == "Leave");
    CHECK(std::string(kind_name(ExprKind::Index)) == "Index");
}

TEST_CASE("ast: exit, pass, fail and return are one Leave node with a kind", "[ast]") {
    auto p = parse("func:a = int32() { exit 1; pass 2; pass; fail 3; return; return r; };\n");
    REQUIRE(p->ok);
    const auto& stmts = p->mod->funcs[0]->body->stmts;
    REQUIRE(stmts.size() == 6);
    const LeaveKind want[] = {LeaveKind::Exit, LeaveKind::Pass, LeaveKind::Pass,
                              LeaveKind::Fail, LeaveKind::Return, LeaveKind::Return};
    const bool has_value[] = {true, true, false, true, false, true};
    for (size_t i = 0; i < 6; ++i) {
        REQUIRE(stmts[i]->kind == StmtKind::Leave);
        const auto& l = static_cast<const Leave&>(*stmts[i]);
        CHECK(l.how == want[i]);
        CHECK((l.value != nullptr) == has_value[i]);
        CHECK(l.transfers() == (want[i] == LeaveKind::Pass || want[i] == LeaveKind::Return));
        CHECK(l.runs_scope_exits() == (want[i] != LeaveKind::Exit));
    }
    CHECK(dump_stmt(*stmts[0]) == "(exit 1)");
    CHECK(dump_stmt(*stmts[2]) == "(pass)");
    CHECK(dump_stmt(*stmts[5]) == "(return r)");
}

}  // namespace npk::test
