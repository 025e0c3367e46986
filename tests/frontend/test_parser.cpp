// The parser (nitpick-subset.md §2): every construct, the tree shapes
// the precedence rules promise, and every syntax error with its position.
//
// This file: items and statements; test_parser_errors.cpp: syntax errors,
// hostile nesting and the sample programs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

#include "parser_test_util.h"

using namespace npk;
using namespace npk::ast;
using namespace npk::test;

// ---------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------

TEST_CASE("parser: an empty file is an empty module", "[parser]") {
    auto p = parse("");
    CHECK(p->ok);
    CHECK(dump_module(*p->mod).empty());
    auto q = parse("// nothing but a comment\n");
    CHECK(q->ok);
}

TEST_CASE("parser: every use form", "[parser]") {
    auto p = parse("use \"jit.npk\".*;\nuse \"a.npk\";\nuse \"b.npk\".{x, Jit, buffer};\nuse \"c.npk\" as c;\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    REQUIRE(p->mod->uses.size() == 4);
    const auto& u = p->mod->uses;
    CHECK(u[0].path == "jit.npk");
    CHECK(u[0].form == UseDecl::Form::All);
    CHECK(u[0].loc.line == 1);
    CHECK(u[0].loc.col == 1);
    CHECK(u[1].form == UseDecl::Form::Plain);
    CHECK(u[2].form == UseDecl::Form::Names);
    CHECK(u[2].names == std::vector<std::string>{"x", "Jit", "buffer"});
    CHECK(u[3].form == UseDecl::Form::Alias);
    CHECK(u[3].alias == "c");
    CHECK(u[0].resolved_module == 0);
}

TEST_CASE("parser: extern with attributes, C pointers and void", "[parser]") {
    auto p = parse(
        "extern func:npk_jit_install_add_i32 = int32(wild ?*:page);\n"
        "extern func:npk_jit_call_i32_i32    = int32(wild ?*:page, int32:a, int32:b);\n"
        "#[destroys_arena(arena)] #[cold]\n"
        "extern func:npk_handle_arena_destroy = void(int64:arena);\n"
        "extern func:mk = wild int8*(uint64:n, const int8*:src, $$i int32:k);\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    REQUIRE(p->mod->externs.size() == 4);
    const auto& e = p->mod->externs;
    CHECK(e[0].name == "npk_jit_install_add_i32");
    CHECK(e[0].loc.col == 1);
    CHECK(e[0].name_loc.col == 13);
    CHECK(e[0].ret.base == TypeRef::Base::Int);
    CHECK(e[0].ret.bits == 32);
    REQUIRE(e[0].params.size() == 1);
    CHECK(e[0].params[0].quals == Q_WILD);
    CHECK(e[0].params[0].type.base == TypeRef::Base::Erased);
    CHECK(e[0].params[0].type.ptr == TypeRef::Ptr::C);
    CHECK(e[0].params[0].name == "page");
    CHECK(e[1].params.size() == 3);
    CHECK(e[2].ret.base == TypeRef::Base::Named);
    CHECK(e[2].ret.name == "void");
    REQUIRE(e[2].attrs.size() == 2);
    CHECK(e[2].attrs[0].name == "destroys_arena");
    CHECK(e[2].attrs[0].args == std::vector<std::string>{"arena"});
    CHECK(e[2].attrs[0].loc.line == 3);
    CHECK(e[2].attrs[1].name == "cold");
    CHECK(e[2].attrs[1].args.empty());
    CHECK(e[3].ret_quals == Q_WILD);
    CHECK(dump_type(e[3].ret) == "int8*");
    CHECK(e[3].params[1].quals == Q_CONST);
    CHECK(dump_type(e[3].params[1].type) == "int8*");
    CHECK(e[3].params[2].quals == Q_DOLLAR_I);
}

TEST_CASE("parser: functions, pub, parameters with every qualifier", "[parser]") {
    auto p = parse(
        "func:failsafe = int32(tbb32:err) {\n    exit 1;\n};\n"
        "pub func:make = wildx int8->() { pass NIL_NOT_A_KEYWORD; };\n"
        "func:take = NIL(wild int8->:a, wildx ?->:b, const int32:c, stack int64:d, gc uint8:e,"
        " $$i int16:f, $$m S:g, wild const int8->:h) { pass; };\n"
        "func:drop = NIL() { pass; };\n"
        "func:process = Result<int32>(bool:buffer) { return r; };\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    const auto& f = p->mod->funcs;
    REQUIRE(f.size() == 5);
    CHECK(f[0]->name == "failsafe");
    CHECK_FALSE(f[0]->is_pub);
    CHECK(f[0]->owner.empty());
    CHECK(f[0]->mangled() == "failsafe");
    CHECK(f[0]->loc.line == 1);
    CHECK(f[0]->name_loc.col == 6);
    CHECK(dump_type(f[0]->params[0].type) == "tbb32");
    CHECK(f[1]->is_pub);
    CHECK(f[1]->ret_quals == Q_WILDX);
    CHECK(dump_type(f[1]->ret) == "int8->");
    CHECK(f[1]->loc.col == 5);  // the `func` keyword, not `pub`
    const auto& ps = f[2]->params;
    REQUIRE(ps.size() == 8);
    CHECK(ps[0].quals == Q_WILD);
    CHECK(ps[1].quals == Q_WILDX);
    CHECK(dump_type(ps[1].type) == "?->");
    CHECK(ps[2].quals == Q_CONST);
    CHECK(ps[3].quals == Q_STACK);
    CHECK(ps[4].quals == Q_GC);
    CHECK(ps[5].quals == Q_DOLLAR_I);
    CHECK(ps[6].quals == Q_DOLLAR_M);
    CHECK(dump_type(ps[6].type) == "S");
    CHECK(ps[7].quals == (Q_WILD | Q_CONST));
    CHECK(f[2]->ret.base == TypeRef::Base::Nil);
    CHECK(f[3]->name == "drop");
    CHECK(f[4]->name == "process");
    CHECK(dump_type(f[4]->ret) == "Result<int32>");
    CHECK(f[4]->params[0].name == "buffer");
}

TEST_CASE("parser: Type blocks with methods", "[parser]") {
    auto p = parse(
        "Type:Jit = {\n"
        "    // a comment between members\n"
        "    func:compile_add_i32 = wildx int8->() {\n"
        "        wildx int8->:page = wildx_alloc(64);\n"
        "        pass page;\n"
        "    };\n"
        "    func:free = int32(wildx int8->:f) { pass wildx_free(f); };\n"
        "};\n"
        "Type:Empty = { };\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    REQUIRE(p->mod->types.size() == 2);
    const TypeDecl& t = p->mod->types[0];
    CHECK(t.name == "Jit");
    CHECK(t.loc.line == 1);
    REQUIRE(t.methods.size() == 2);
    CHECK(t.methods[0]->name == "compile_add_i32");
    CHECK(t.methods[0]->owner == "Jit");
    CHECK(t.methods[1]->mangled() == "Jit_free");
    CHECK(t.methods[0]->body->stmts.size() == 2);
    CHECK(p->mod->types[1].methods.empty());
    CHECK(p->mod->funcs.empty());
}

TEST_CASE("parser: structs and impls", "[parser]") {
    auto p = parse(
        "struct:NitpickWildRaii = { int64:v; };\n"
        "pub struct:Pair = { int32:a; wild int8->:ignored_qual_is_error; };\n");
    CHECK_FALSE(p->ok);  // qualifiers are not part of a field

    auto q = parse(
        "struct:S = { int64:v; bool:okay; int8->:p; Result<int32>:r; };\n"
        "pub struct:Empty = { };\n"
        "impl:Drop:for:S = {\n"
        "    func:drop = NIL($$m S:self) { pass; };\n"
        "};\n"
        "impl:Drop:for:Empty = { func:drop = NIL($$m Empty:self) { pass; }; }\n");
    INFO(diags(*q));
    REQUIRE(q->ok);
    REQUIRE(q->mod->structs.size() == 2);
    const StructDecl& s = q->mod->structs[0];
    CHECK(s.name == "S");
    CHECK_FALSE(s.is_pub);
    REQUIRE(s.fields.size() == 4);
    CHECK(s.fields[0].name == "v");
    CHECK(dump_type(s.fields[0].type) == "int64");
    CHECK(s.fields[0].loc.col == 20);
    CHECK(dump_type(s.fields[2].type) == "int8->");
    CHECK(dump_type(s.fields[3].type) == "Result<int32>");
    CHECK(q->mod->structs[1].is_pub);
    REQUIRE(q->mod->impls.size() == 2);
    CHECK(q->mod->impls[0].trait == "Drop");
    CHECK(q->mod->impls[0].for_type == "S");
    REQUIRE(q->mod->impls[0].methods.size() == 1);
    CHECK(q->mod->impls[0].methods[0]->name == "drop");
    CHECK(q->mod->impls[0].methods[0]->owner == "S");
    CHECK(q->mod->impls[1].methods.size() == 1);  // the ';' after an impl is optional
}

// ---------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------

TEST_CASE("parser: declarations with every qualifier and type", "[parser]") {
    CHECK(body("int32:x = 5;") == "(decl int32:x 5)");
    CHECK(body("int64:z;") == "(decl int64:z)");
    CHECK(body("wildx int8->:page = wildx_alloc(64);") == "(decl wildx int8->:page (call wildx_alloc 64))");
    CHECK(body("wild int8->:b = alloc(16);") == "(decl wild int8->:b (call alloc 16))");
    CHECK(body("fixed int32:rc = wildx_seal(page);") == "(decl fixed int32:rc (call wildx_seal page))");
    CHECK(body("const uint8:c = 1u8;") == "(decl const uint8:c 1u8)");
    CHECK(body("stack int32:s = 1;") == "(decl stack int32:s 1)");
    CHECK(body("gc int32->:g = p;") == "(decl gc int32->:g p)");
    CHECK(body("$$i int32:i = 1;") == "(decl $$i int32:i 1)");
    CHECK(body("$$m int32:m = 1;") == "(decl $$m int32:m 1)");
    CHECK(body("wild fixed const int8->:q = p;") == "(decl wild fixed const int8->:q p)");
    CHECK(body("?->:e = p;") == "(decl ?->:e p)");
    CHECK(body("bool:b = true;") == "(decl bool:b true)");
    CHECK(body("tbb32:t = 0tbb32;") == "(decl tbb32:t 0tbb32)");
    CHECK(body("Result<int32>:r = f();") == "(decl Result<int32>:r (call f))");
    CHECK(body("Result<int8->>:r = f();") == "(decl Result<int8->>:r (call f))");
    CHECK(body("Result<Result<bool>>:r = f();") == "(decl Result<Result<bool>>:r (call f))");
    CHECK(body("wild S:s = S{v: 1};") == "(decl wild S:s (S{} v:1))");
    CHECK(body("Pair:p;") == "(decl Pair:p)");
    CHECK(body("int128:big;") == "(decl int128:big)");
}

TEST_CASE("parser: contextual keywords name variables", "[parser]") {
    CHECK(body("int8->:buffer = alloc(8);") == "(decl int8->:buffer (call alloc 8))");
    CHECK(body("int32:process = 1;") == "(decl int32:process 1)");
    CHECK(body("int32:stack = 1;") == "(decl int32:stack 1)");
    CHECK(body("int32:gc = 1;") == "(decl int32:gc 1)");
    CHECK(body("int32:Result = 1;") == "(decl int32:Result 1)");
    CHECK(body("int32:func = 1;") == "(decl int32:func 1)");
    CHECK(body("int32:obj = 1;") == "(decl int32:obj 1)");
    // ... and are expressions when used.
    CHECK(body("free(buffer);") == "(call free buffer);");
    CHECK(body("buffer = alloc(1);") == "(= buffer (call alloc 1));");
    CHECK(body("stack = stack + 1;") == "(= stack (+ stack 1));");
    CHECK(body("gc = 2;") == "(= gc 2);");
    CHECK(body("func = obj * process;") == "(= func (* obj process));");
    CHECK(body("x = process(buffer);") == "(= x (call process buffer));");
    // `void` is an identifier.
    CHECK(body("int32:void = 1;") == "(decl int32:void 1)");
}

TEST_CASE("parser: members may be drop and type words", "[parser]") {
    CHECK(expr("S.drop(x)") == "(call (. S drop) x)");
    CHECK(expr("r.int32") == "(. r int32)");
    CHECK(expr("r.buffer") == "(. r buffer)");
    CHECK(expr("r.bool") == "(. r bool)");
    CHECK(expr("a.b.c") == "(. (. a b) c)");
}

TEST_CASE("parser: if, else if, else and nested blocks", "[parser]") {
    CHECK(body("if (a) { exit 1; }") == "(if a { (exit 1) })");
    CHECK(body("if (a) exit 1;") == "(if a (exit 1))");
    CHECK(body("if (a) { } else { x = 1; }") == "(if a { } else { (= x 1); })");
    CHECK(body("if (a) exit 1; else exit 2;") == "(if a (exit 1) else (exit 2))");
    CHECK(body("if (a) { exit 1; } else if (b) { exit 2; } else { exit 3; }") ==
          "(if a { (exit 1) } else (if b { (exit 2) } else { (exit 3) }))");
    CHECK(body("{ int32:x = 1; { x = 2; } }") == "{ (decl int32:x 1) { (= x 2); } }");
    CHECK(body("{ } { }") == "{ } { }");
    CHECK(body("if (write_rc == 0 && seal_rc == 0) {\n exit 0;\n}\nexit 2;") ==
          "(if (&& (== write_rc 0) (== seal_rc 0)) { (exit 0) }) (exit 2)");
}

TEST_CASE("parser: defer, exit, pass, fail, return", "[parser]") {
    CHECK(body("defer { wildx_free(code); }") == "(defer { (call wildx_free code); })");
    CHECK(body("defer { }") == "(defer { })");
    CHECK(body("exit 0;") == "(exit 0)");
    CHECK(body("exit -1;") == "(exit (- 1))");
    CHECK(body("pass;") == "(pass)");
    CHECK(body("pass page;") == "(pass page)");
    CHECK(body("pass raw f();") == "(pass (raw (call f)))");
    CHECK(body("fail 3i32;") == "(fail 3i32)");
    CHECK(body("return;") == "(return)");
    CHECK(body("return r;") == "(return r)");
    CHECK(body("return Result{val: v, err: 0, is_error: false};") ==
          "(return (Result{} val:v err:0 is_error:false))");
}

TEST_CASE("parser: raw and drop statements, calls and assignment", "[parser]") {
    CHECK(body("drop f();") == "(drop (call f));");
    CHECK(body("drop Jit.free(f);") == "(drop (call (. Jit free) f));");
    CHECK(body("raw f();") == "(raw (call f));");
    CHECK(body("f();") == "(call f);");
    CHECK(body("g(1, x, \"s\", true, false);") == "(call g 1 x \"s\" true false);");
    CHECK(body("Jit.call_i32_i32(f, 7i32, 35i32);") == "(call (. Jit call_i32_i32) f 7i32 35i32);");
    CHECK(body("x = 1;") == "(= x 1);");
    CHECK(body("s.v = 2;") == "(= (. s v) 2);");
    CHECK(body("a = b = 3;") == "(= a (= b 3));");
    CHECK(body("x = S{};") == "(= x (S{}));");
    CHECK(body("x = S{a: 1, b: f(2),};") == "(= x (S{} a:1 b:(call f 2)));");
}

TEST_CASE("parser: every binary operator, with precedence and left associativity", "[parser]") {
    CHECK(expr("a || b") == "(|| a b)");
    CHECK(expr("a && b") == "(&& a b)");
    CHECK(expr("a == b") == "(== a b)");
    CHECK(expr("a != b") == "(!= a b)");
    CHECK(expr("a < b") == "(< a b)");
    CHECK(expr("a <= b") == "(<= a b)");
    CHECK(expr("a > b") == "(> a b)");
    CHECK(expr("a >= b") == "(>= a b)");
    CHECK(expr("a + b") == "(+ a b)");
    CHECK(expr("a - b") == "(- a b)");
    CHECK(expr("a * b") == "(* a b)");
    CHECK(expr("a / b") == "(/ a b)");
    CHECK(expr("a % b") == "(% a b)");

    CHECK(expr("a || b && c") == "(|| a (&& b c))");
    CHECK(expr("a && b || c") == "(|| (&& a b) c)");
    CHECK(expr("a && b == c") == "(&& a (== b c))");
    CHECK(expr("a == b < c") == "(== a (< b c))");
    CHECK(expr("a < b + c") == "(< a (+ b c))");
    CHECK(expr("a + b * c") == "(+ a (* b c))");
    CHECK(expr("a * b + c") == "(+ (* a b) c)");
    CHECK(expr("a - b - c") == "(- (- a b) c)");
    CHECK(expr("a / b / c") == "(/ (/ a b) c)");
    CHECK(expr("a % b * c") == "(* (% a b) c)");
    CHECK(expr("a == b != c") == "(!= (== a b) c)");
    CHECK(expr("a < b < c") == "(< (< a b) c)");
    CHECK(expr("(a + b) * c") == "(* (+ a b) c)");
    CHECK(expr("x = a || b") == "(= x (|| a b))");
    CHECK(expr("a || b || c") == "(|| (|| a b) c)");
}

TEST_CASE("parser: prefix operators bind tighter than binary, looser than postfix", "[parser]") {
    CHECK(expr("raw F.g(x) + 1") == "(+ (raw (call (. F g) x)) 1)");
    CHECK(expr("-f(x)") == "(- (call f x))");
    CHECK(expr("!r.is_error") == "(! (. r is_error))");
    CHECK(expr("-a * b") == "(* (- a) b)");
    CHECK(expr("!a && b") == "(&& (! a) b)");
    CHECK(expr("- -a") == "(- (- a))");
    CHECK(expr("!!a") == "(! (! a))");
    CHECK(expr("drop raw f()") == "(drop (raw (call f)))");
    CHECK(expr("raw f().value") == "(raw (. (call f) value))");
    CHECK(expr("a - -1") == "(- a (- 1))");
    CHECK(expr("Jit.compile_add_i32()") == "(call (. Jit compile_add_i32))");
}

TEST_CASE("parser: drop binds like a prefix operator", "[parser]") {
    // drop = "drop" unary: it takes one prefix-level operand.
    CHECK(expr("drop f() + 1") == "(+ (drop (call f)) 1)");
    CHECK(expr("drop -x") == "(drop (- x))");
}

TEST_CASE("parser: literals in expressions", "[parser]") {
    CHECK(expr("42") == "42");
    CHECK(expr("1_000") == "1000");
    CHECK(expr("255u8") == "255u8");
    CHECK(expr("127i8") == "127i8");
    CHECK(expr("-128i8") == "(- 128i8)");
    CHECK(expr("- 128i8") == "(- 128i8)");
    CHECK(expr("-9223372036854775808i64") == "(- 9223372036854775808i64)");
    CHECK(expr("18446744073709551615u64") == "18446744073709551615u64");
    CHECK(expr("127tbb8") == "127tbb8");
    CHECK(expr("-127tbb8") == "(- 127tbb8)");
    CHECK(expr("\"a\\tb\"") == "\"a\tb\"");
    CHECK(expr("true") == "true");
    CHECK(expr("false") == "false");
}

TEST_CASE("parser: node locations", "[parser]") {
    auto p = parse("func:f = int32() {\n  x = a + raw G.h(1);\n};\n");
    REQUIRE(p->ok);
    const auto& st = *p->mod->funcs[0]->body->stmts[0];
    CHECK(st.loc.line == 2);
    CHECK(st.loc.col == 3);
    const auto& as = static_cast<const Assign&>(*static_cast<const ExprStmt&>(st).expr);
    CHECK(as.loc.col == 3);
    const auto& bin = static_cast<const Binary&>(*as.value);
    CHECK(bin.loc.col == 9);  // the operator
    const auto& raw = static_cast<const Raw&>(*bin.rhs);
    CHECK(raw.loc.col == 11);
    const auto& call = static_cast<const Call&>(*raw.operand);
    CHECK(call.loc.col == 15);  // first token of the callee
    const auto& mem = static_cast<const Member&>(*call.callee);
    CHECK(mem.loc.col == 15);
    CHECK(mem.member_loc.col == 17);
    const auto& blk = *p->mod->funcs[0]->body;
    CHECK(blk.loc.line == 1);
    CHECK(blk.loc.col == 18);
    CHECK(blk.close_loc.line == 3);
    CHECK(blk.close_loc.col == 1);
}

TEST_CASE("parser: every Expr and Stmt has a unique id from Program::next_id", "[parser]") {
    auto p = parse(
        "func:a = int32() { int32:x = 1 + 2 * 3; if (x > 1) { exit x; } else { defer { f(x); } } };\n"
        "Type:T = { func:m = int32(int32:y) { pass -y; }; };\n"
        "func:b = NIL() { s.v = !true; x = S{v: raw g(1)}; pass; };\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    std::multiset<uint32_t> ids;
    for (const auto& f : p->mod->funcs) collect_ids(*f->body, ids);
    for (const auto& t : p->mod->types)
        for (const auto& m : t.methods) collect_ids(*m->body, ids);
    CHECK(ids.count(0) == 0);
    std::set<uint32_t> unique(ids.begin(), ids.end());
    CHECK(unique.size() == ids.size());
    CHECK(*unique.rbegin() < p->prog.next_id);
    CHECK(p->prog.next_id == ids.size() + 1);  // dense
}

TEST_CASE("parser: a second module continues the id sequence", "[parser]") {
    SourceManager sources;
    Diagnostics diag(sources);
    Program prog;
    uint32_t a = sources.add("a.npk", "/a.npk", "func:f = NIL() { pass; };");
    uint32_t b = sources.add("b.npk", "/b.npk", "func:g = NIL() { pass; };");
    prog.modules.push_back(std::make_unique<Module>());
    prog.modules.push_back(std::make_unique<Module>());
    REQUIRE(parse_module(sources, a, prog, *prog.modules[0], diag));
    uint32_t mid = prog.next_id;
    REQUIRE(parse_module(sources, b, prog, *prog.modules[1], diag));
    CHECK(prog.modules[1]->funcs[0]->body->id == mid);
    CHECK(prog.modules[1]->file == b);
    CHECK(prog.modules[1]->path == "b.npk");
}
