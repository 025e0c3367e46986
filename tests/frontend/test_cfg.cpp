// The control-flow graph (analysis/cfg.h): scope exits carry the drops
// and defers in the order they run, && / || are branches, loops are back
// edges, exit runs nothing. Each test builds the graph of a checked
// program and reads its dump (dump_cfg) or its parts.
#include <algorithm>
#include <string>

#include "analysis/cfg.h"
#include "analysis/drops.h"
#include "sema_test_util.h"

using namespace npk;
using namespace npk::test;

namespace {

struct Built {
    std::unique_ptr<Loaded> l;
    Cfg g;
    std::string dump;
};

Built graph_of(const std::string& text, const std::string& fn = "main") {
    Built b;
    b.l = typecheck_ok(text);
    const ast::FuncDecl* f = function_named(b.l->prog, fn);
    REQUIRE(f != nullptr);
    b.g = build_cfg(*f, *b.l->sema, drop_switches(b.l->prog));
    b.dump = dump_cfg(b.g);
    return b;
}

// The events of the whole graph in reverse post-order, one string.
size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
    return n;
}

// Whether `first` occurs before `second` on one line of the dump.
bool before_on_a_line(const std::string& dump, const std::string& first, const std::string& second) {
    std::istringstream lines(dump);
    for (std::string line; std::getline(lines, line);) {
        const size_t a = line.find(first);
        if (a != std::string::npos && line.find(second, a) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("cfg: a defer's body is lowered at every exit of its scope, and none at exit", "[cfg]") {
    Built b = graph_of(
        "func:helper = int32(int32:x) {\n"  // 1
        "    wild int8->:p = alloc(8);\n"    // 2
        "    defer { free(p); }\n"           // 3
        "    if (x == 1i32) { pass 1i32; }\n"  // 4
        "    if (x == 2i32) { fail 2; }\n"   // 5
        "    pass 0i32;\n"                   // 6
        "};\n"
        "func:main = int32() {\n"           // 8
        "    wild int8->:q = alloc(8);\n"    // 9
        "    defer { free(q); }\n"           // 10
        "    exit 0;\n"                      // 11
        "};\n" +
            std::string(kFailsafe),
        "helper");
    INFO(b.dump);
    // pass, fail, pass and the closing brace (dead after `pass 0`): four
    // copies, each after the Leave.
    CHECK(count(b.dump, "DeferBegin(3:11") == 3);  // the reachable ones (the dump shows those)
    CHECK(before_on_a_line(b.dump, "Leave(pass)", "DeferBegin(3:11 @4:22)"));
    CHECK(before_on_a_line(b.dump, "Leave(fail)", "DeferBegin(3:11 @5:22)"));
    CHECK(before_on_a_line(b.dump, "DeferBegin(3:11 @6:5)", "Eval(Call free)"));
    size_t exits_with_defer = 0;
    for (const Cfg::Exit& e : b.g.exits) exits_with_defer += e.todo.size();
    CHECK(exits_with_defer == 4);
    // `exit` leaves with nothing run: main's only defer is lowered at its
    // closing brace, which nothing reaches.
    const ast::FuncDecl* m = function_named(b.l->prog, "main");
    const Cfg mg = build_cfg(*m, *b.l->sema, drop_switches(b.l->prog));
    const std::string md = dump_cfg(mg);
    INFO(md);
    CHECK(md.find("Leave(exit) -> B1") != std::string::npos);
    CHECK(md.find("DeferBegin") == std::string::npos);
    size_t scheduled = 0;
    for (const Cfg::Exit& e : mg.exits)
        if (!e.todo.empty()) {
            ++scheduled;
            CHECK(e.at.line == 12);  // the closing brace, unreachable
        }
    CHECK(scheduled == 1);
}

TEST_CASE("cfg: && and || are branches: the right operand has its own block", "[cfg]") {
    Built b = graph_of(in_main(
        "    int32:i = 0i32;\n"
        "    if (i < 3i32 && i > 0i32 || i == 7i32) { i = 1i32; }\n"
        "    bool:t = i == 1i32 && i != 2i32;\n"
        "    exit 0;\n"));
    INFO(b.dump);
    // The condition: three comparisons, each ending a block with a branch.
    CHECK(count(b.dump, "Eval(Binary ==) ?") + count(b.dump, "Eval(Binary <) ?") + count(b.dump, "Eval(Binary >) ?") +
              count(b.dump, "Eval(Binary !=) ?") >=
          4);
    // The value form: the && node is evaluated once, after the join.
    CHECK(count(b.dump, "Eval(Binary &&)") == 1);
    CHECK(count(b.dump, "Eval(Binary ||)") == 0);  // a condition: branches only
}

TEST_CASE("cfg: a loop body's drops and defers run at its end, on break and on continue", "[cfg]") {
    Built b = graph_of(in_main(
        "    int32:i = 0i32;\n"                 // 2
        "    while (i < 3i32) {\n"              // 3
        "        wild int8->:q = alloc(1);\n"   // 4
        "        defer { free(q); }\n"          // 5
        "        i = i + 1i32;\n"               // 6
        "        if (i == 1i32) { continue; }\n"  // 7
        "        if (i == 2i32) { break; }\n"   // 8
        "    }\n"                               // 9
        "    exit 0;\n"));
    INFO(b.dump);
    CHECK(b.g.back_edges == 2);  // the body's end and the continue
    CHECK(count(b.dump, " loop:") == 1);
    // The defer runs at the continue's and the break's way out of both
    // scopes (the arm's brace, then the body's), and at the body's end.
    CHECK(count(b.dump, "DeferBegin(5:15") == 3);
    size_t ends = 0;
    for (const Cfg::Exit& e : b.g.exits)
        if (e.how == ExitHow::ScopeEnd && !e.todo.empty()) ++ends;
    CHECK(ends == 3);
}

TEST_CASE("cfg: with drop.npk, a block's drops run before its defers, newest first", "[cfg]") {
    Built b = graph_of(
        "use \"drop.npk\";\n"                            // 1
        "func:main = int32() {\n"                        // 2
        "    {\n"                                        // 3
        "        wildx int8->:a = wildx_alloc(16);\n"    // 4
        "        defer { a[0] = 1i8; }\n"                // 5
        "        wildx int8->:c = wildx_alloc(16);\n"    // 6
        "    }\n"                                        // 7
        "    exit 0;\n"
        "};\n" +
        std::string(kFailsafe));
    INFO(b.dump);
    CHECK(before_on_a_line(b.dump, "Drop(wildx c @7:5)", "Drop(wildx a @7:5)"));
    CHECK(before_on_a_line(b.dump, "Drop(wildx a @7:5)", "DeferBegin(5:15 @7:5)"));
}

TEST_CASE("cfg: pass hands its binding over: every other drop, then every defer", "[cfg]") {
    Built b = graph_of(
        "use \"drop.npk\";\n"                                 // 1
        "func:make = wildx int8->() {\n"                      // 2
        "    wildx int8->:keep = wildx_alloc(16);\n"          // 3
        "    defer { print_i32(1i32); }\n"                    // 4
        "    {\n"                                             // 5
        "        wildx int8->:tmp = wildx_alloc(16);\n"       // 6
        "        defer { print_i32(2i32); }\n"                // 7
        "        pass keep;\n"                                // 8
        "    }\n"
        "};\n"
        "func:main = int32() {\n    exit 0;\n};\n" +
            std::string(kFailsafe),
        "make");
    INFO(b.dump);
    CHECK(before_on_a_line(b.dump, "Leave(pass)", "Drop(wildx tmp @8:9)"));
    CHECK(before_on_a_line(b.dump, "Drop(wildx tmp @8:9)", "DeferBegin(7:15 @8:9)"));
    CHECK(before_on_a_line(b.dump, "DeferBegin(7:15 @8:9)", "DeferBegin(4:11 @8:9)"));
    CHECK(b.dump.find("Drop(wildx keep @8:9)") == std::string::npos);
}

TEST_CASE("cfg: nesting is linear: 100 nested loops, 100 nested ifs", "[cfg]") {
    std::string body = "    int32:i = 0i32;\n";
    for (int d = 0; d < 100; ++d) body += "while (i < 1i32) { if (i == 5i32) { break; } \n";
    body += "i = i + 1i32;\n";
    for (int d = 0; d < 100; ++d) body += "}\n";
    body += "    exit 0;\n";
    Built b = graph_of(in_main(body));
    CHECK(b.g.back_edges == 100);
    CHECK(b.g.blocks.size() < 100 * 8);
    CHECK(std::count_if(b.g.blocks.begin(), b.g.blocks.end(), [](const CfgBlock& k) { return k.loop_head; }) == 100);
}

TEST_CASE("cfg: a defer is written where it stands, with a probe of its body there that leads nowhere", "[cfg]") {
    Built b = graph_of(in_main(
        "    wild int8->:q = alloc(8);\n"   // 2
        "    defer { free(q); }\n"          // 3
        "    exit 0;\n"));
    INFO(b.dump);
    CHECK(count(b.dump, "Defer(3:5)") == 1);
    // The probe: the body's free, in blocks marked probe, none of which
    // reaches another block; the Defer event comes after the branch.
    size_t probes = 0, frees = 0;
    for (uint32_t i = 0; i < b.g.blocks.size(); ++i) {
        const CfgBlock& bl = b.g.blocks[i];
        if (!bl.probe) continue;
        ++probes;
        CHECK(bl.succs.empty());
        for (const Event& e : bl.events)
            if (e.kind == EventKind::Eval && e.expr->kind == ast::ExprKind::Call) ++frees;
    }
    CHECK(probes == 1);
    CHECK(frees == 1);
    // `exit` runs no defer, and the probe's scope exit is not one of the
    // function's: the body's own end is an exit once, where the body is
    // lowered at the (unreachable) closing brace.
    CHECK(count(b.dump, "DeferBegin") == 0);
    size_t body_ends = 0;
    for (const Cfg::Exit& e : b.g.exits) body_ends += e.at.line == 3;
    CHECK(body_ends == 1);
}

TEST_CASE("cfg: a literal condition has one way on, and the scope ends of a break say so", "[cfg]") {
    Built b = graph_of(in_main(
        "    int32:i = 0i32;\n"             // 2
        "    while (true) {\n"              // 3
        "        wild int8->:q = alloc(1);\n"  // 4
        "        free(q);\n"                // 5
        "        i = i + 1i32;\n"           // 6
        "        if (i == 9i32) { break; }\n"  // 7
        "    }\n"                           // 8
        "    exit 0;\n"));
    INFO(b.dump);
    // The head's one successor is the body: after the loop is reached
    // only through the break.
    bool head_checked = false;
    for (const CfgBlock& bl : b.g.blocks)
        if (bl.loop_head) {
            CHECK(bl.succs.size() == 1);
            CHECK(bl.cond == nullptr);
            head_checked = true;
        }
    CHECK(head_checked);
    size_t ends_by_break = 0;
    for (const CfgBlock& bl : b.g.blocks)
        for (const Event& e : bl.events)
            if (e.kind == EventKind::ScopeEnd && e.jump) {
                CHECK(e.jump->kind == ast::StmtKind::Break);
                ++ends_by_break;
            }
    CHECK(ends_by_break == 2);  // the arm's scope and the body's
}
