// The parser (nitpick-subset.md §2): every construct, the tree shapes
// the precedence rules promise, and every syntax error with its position.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>

#include "ast.h"
#include "ast_dump.h"
#include "diag.h"
#include "parser.h"

using namespace npk;
using namespace npk::ast;

namespace {

struct Parsed {
    SourceManager sources;
    Diagnostics diag{sources};
    Program prog;
    Module* mod = nullptr;
    bool ok = false;
};

std::unique_ptr<Parsed> parse(const std::string& text) {
    auto p = std::make_unique<Parsed>();
    uint32_t id = p->sources.add("t.npk", "/t.npk", text);
    p->prog.modules.push_back(std::make_unique<Module>());
    p->mod = p->prog.modules.back().get();
    p->ok = parse_module(p->sources, id, p->prog, *p->mod, p->diag);
    return p;
}

std::string diags(const Parsed& p) {
    std::string s;
    for (const auto& d : p.diag.all()) s += p.diag.format_line(d) + "\n";
    return s;
}

// Parses `text` as the body of a function and returns the statements'
// dumps, space separated.
std::string body(const std::string& stmts) {
    auto p = parse("func:f = int32() {\n" + stmts + "\n};\n");
    INFO(stmts << "\n" << diags(*p));
    REQUIRE(p->ok);
    REQUIRE(p->mod->funcs.size() == 1);
    std::string s;
    for (const auto& st : p->mod->funcs[0]->body->stmts) s += (s.empty() ? "" : " ") + dump_stmt(*st);
    return s;
}

// The tree of one expression.
std::string expr(const std::string& e) {
    auto p = parse("func:f = int32() {\n" + e + ";\n};\n");
    INFO(e << "\n" << diags(*p));
    REQUIRE(p->ok);
    const auto& stmts = p->mod->funcs.at(0)->body->stmts;
    REQUIRE(stmts.size() == 1);
    REQUIRE(stmts[0]->kind == StmtKind::ExprStmt);
    return dump_expr(*static_cast<const ExprStmt&>(*stmts[0]).expr);
}

bool has_error(const Parsed& p, uint32_t line, uint32_t col, const std::string& frag) {
    for (const auto& d : p.diag.all())
        if (d.severity == Severity::Error && d.loc.line == line && d.loc.col == col &&
            d.message.find(frag) != std::string::npos && d.code.empty())
            return true;
    return false;
}

// `text` must fail with exactly one error, at line:col, containing frag.
void expect_error(const std::string& text, uint32_t line, uint32_t col, const std::string& frag) {
    auto p = parse(text);
    INFO("input:\n" << text << "\ndiagnostics:\n" << diags(*p));
    CHECK_FALSE(p->ok);
    CHECK(p->diag.error_count() == 1);
    CHECK(has_error(*p, line, col, frag));
}

// Collects every Expr/Stmt id of a statement tree.
void collect_ids(const Expr& e, std::multiset<uint32_t>& ids);
void collect_ids(const Stmt& s, std::multiset<uint32_t>& ids) {
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
    case StmtKind::Exit: collect_ids(*static_cast<const Exit&>(s).value, ids); break;
    case StmtKind::Pass:
        if (static_cast<const Pass&>(s).value) collect_ids(*static_cast<const Pass&>(s).value, ids);
        break;
    case StmtKind::Fail: collect_ids(*static_cast<const Fail&>(s).value, ids); break;
    case StmtKind::Return:
        if (static_cast<const Return&>(s).value) collect_ids(*static_cast<const Return&>(s).value, ids);
        break;
    case StmtKind::ExprStmt: collect_ids(*static_cast<const ExprStmt&>(s).expr, ids); break;
    }
}
void collect_ids(const Expr& e, std::multiset<uint32_t>& ids) {
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
    default: break;
    }
}

}  // namespace

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

// ---------------------------------------------------------------------
// Syntax errors: message, line and column
// ---------------------------------------------------------------------

TEST_CASE("parser errors: the empty statement", "[parser][errors]") {
    expect_error("func:main = int32() {\n    ;\n};", 2, 5, "Expected expression, found ';'");
    expect_error("func:main = int32() {\n    exit 0;;\n};", 2, 12, "Expected expression, found ';'");
    expect_error("func:main = int32() { if (a) { } ; };", 1, 34, "Expected expression, found ';'");
}

TEST_CASE("parser errors: defer must be followed by a block", "[parser][errors]") {
    expect_error("func:main = int32() {\n  defer free(p);\n};", 2, 9,
                 "'defer' must be followed by a block: write 'defer { ... }', found 'free'");
}

TEST_CASE("parser errors: missing semicolons", "[parser][errors]") {
    expect_error("func:main = int32() {\n  int32:x = 1\n  exit x;\n};", 2, 14,
                 "Expected ';' after the declaration of 'x', found 'exit'");
    expect_error("func:main = int32() {\n  f()\n};", 2, 6, "Expected ';' after expression, found '}'");
    expect_error("func:main = int32() { exit 0 };", 1, 29, "Expected ';' after 'exit' statement, found '}'");
    expect_error("func:main = int32() { pass 1 };", 1, 29, "Expected ';' after 'pass' statement");
    expect_error("func:main = int32() { fail 1 };", 1, 29, "Expected ';' after 'fail' statement");
    expect_error("func:main = int32() { return 1 };", 1, 31, "Expected ';' after 'return' statement");
    expect_error("func:main = int32() { exit 0; }\nfunc:g = NIL() { pass; };", 1, 32,
                 "Expected ';' after the '}' of function 'main', found 'func'");
    expect_error("Type:T = { }\n", 1, 13, "Expected ';' after the '}' of Type 'T', found end of file");
    expect_error("struct:S = { int32:a; }", 1, 24, "Expected ';' after the '}' of struct 'S'");
    expect_error("use \"a.npk\".*\nfunc:f = NIL() { pass; };", 1, 14, "Expected ';' after 'use', found 'func'");
    expect_error("extern func:f = int32()\nfunc:g = NIL() { pass; };", 1, 24,
                 "Expected ';' after the extern declaration, found 'func'");
}

TEST_CASE("parser errors: exit and fail need an operand", "[parser][errors]") {
    expect_error("func:main = int32() { exit; };", 1, 27, "Expected expression, found ';'");
    expect_error("func:f = int32() { fail; };", 1, 24, "Expected expression, found ';'");
}

TEST_CASE("parser errors: pointer spelling inside and outside extern", "[parser][errors]") {
    expect_error("func:f = int32() { int8*:p = alloc(1); };", 1, 24,
                 "'int8*' is a C pointer type, allowed only in extern declarations: write 'int8->'");
    expect_error("func:f = int32(?*:p) { pass 0; };", 1, 17, "'?*' is a C pointer type");
    expect_error("func:f = int32*() { pass 0; };", 1, 15, "write 'int32->'");
    expect_error("extern func:g = int32(wild ?->:p);", 1, 29,
                 "In an extern declaration a pointer is a C pointer: write '?*', not '?->'");
    expect_error("extern func:g = int8->();", 1, 21, "write 'int8*', not 'int8->'");
    expect_error("func:f = int32() { ?:p = q; };", 1, 21, "Expected '*' or '->' after '?', found ':'");
}

TEST_CASE("parser errors: integer literals that do not fit their suffix", "[parser][errors]") {
    expect_error("func:f = int32() { x = 300i8; };", 1, 24, "Integer literal 300i8 does not fit in int8 (-128 to 127)");
    expect_error("func:f = int32() { x = 128i8; };", 1, 24, "does not fit in int8");
    expect_error("func:f = int32() { x = -129i8; };", 1, 25, "Integer literal -129i8 does not fit in int8");
    expect_error("func:f = int32() { x = 256u8; };", 1, 24, "does not fit in uint8 (0 to 255)");
    expect_error("func:f = int32() { x = 65536u16; };", 1, 24, "does not fit in uint16");
    expect_error("func:f = int32() { x = 2147483648i32; };", 1, 24, "does not fit in int32");
    expect_error("func:f = int32() { x = 4294967296u32; };", 1, 24, "does not fit in uint32");
    expect_error("func:f = int32() { x = 9223372036854775808i64; };", 1, 24, "does not fit in int64");
    expect_error("func:f = int32() { x = 128tbb8; };", 1, 24, "does not fit in tbb8 (-127 to 127)");
    expect_error("func:f = int32() { x = -128tbb8; };", 1, 25, "does not fit in tbb8");
    expect_error("func:f = int32() { x = 2147483648tbb32; };", 1, 24, "does not fit in tbb32");
    expect_error("func:f = int32() { x = 32768i16; };", 1, 24, "does not fit in int16");
    // The negation allowance is for a literal directly under '-' only.
    expect_error("func:f = int32() { x = -(128i8); };", 1, 26, "Integer literal 128i8 does not fit in int8");
}

TEST_CASE("parser errors: a bad literal is one error, not two", "[parser][errors]") {
    expect_error("func:f = int32() { x = 12abc; };", 1, 24, "Invalid suffix 'abc'");
    expect_error("func:f = int32() { x = 99999999999999999999; };", 1, 24, "is too large");
}

TEST_CASE("parser errors: unbalanced brackets", "[parser][errors]") {
    expect_error("func:f = int32() { g(1, 2; };", 1, 26, "Expected ')' to close the call opened at 1:21, found ';'");
    expect_error("func:f = int32() { x = (1 + 2; };", 1, 30, "Expected ')' to close '(' opened at 1:24, found ';'");
    expect_error("func:f = int32() { if (a { exit 1; } };", 1, 26, "Expected ')' to close the 'if' condition, found '{'");
    expect_error("func:f = int32() {\n  exit 0;\n", 3, 1,
                 "Expected '}' to close the block opened at 1:18, found end of file");
    expect_error("func:f = int32() {\n  exit 0;\nfunc:g = NIL() { pass; };", 3, 1,
                 "Expected '}' to close the block opened at 1:18, found 'func'");
    expect_error("func:f = int32() { exit 0; };\n}\n", 2, 1, "Expected an item (use, extern func, func, Type, struct or impl), found '}'");
}

TEST_CASE("parser errors: statements and expressions", "[parser][errors]") {
    expect_error("func:f = int32() { else { } };", 1, 20, "'else' without a matching 'if'");
    expect_error("func:f = int32() { x = ; };", 1, 24, "Expected expression, found ';'");
    expect_error("func:f = int32() { x = 1 +; };", 1, 27, "Expected expression, found ';'");
    expect_error("func:f = int32() { while (a) { } };", 1, 20, "Expected expression, found 'while' (a reserved word)");
    expect_error("func:f = int32() { x = NULL; };", 1, 24, "Expected expression, found 'NULL' (a reserved word)");
    expect_error("func:f = int32() { x = NIL; };", 1, 24, "NIL is a type");
    expect_error("func:f = int32() { f(1) = 2; };", 1, 25, "Invalid assignment target");
    expect_error("func:f = int32() { a.b.c = 2; };", 1, 26, "Invalid assignment target");
    expect_error("func:f = int32() { 1 = 2; };", 1, 22, "Invalid assignment target");
    expect_error("func:f = int32() { x = a.; };", 1, 26, "Expected a member name after '.', found ';'");
    expect_error("func:f = int32() { x = a.1; };", 1, 26, "Expected a member name after '.', found '1'");
    expect_error("func:f = int32() { raw -x; };", 1, 24, "Expected expression, found '-'");
    expect_error("func:f = int32() { f(x)(y); };", 1, 24,
                 "Only a function or a Type method can be called: write f(...) or Name.m(...)");
    expect_error("func:f = int32() { x = (a + b)(1); };", 1, 31, "Only a function or a Type method can be called");
    CHECK(expr("(g)(1)") == "(call g 1)");  // parentheses around a name are just the name
    expect_error("func:f = int32() { x = a.b.c(1); };", 1, 29, "Only a function or a Type method can be called");
    expect_error("func:f = int32() { x = \"s\"(1); };", 1, 27, "Only a function or a Type method can be called");
    expect_error("func:f = int32() { x = S{a 1}; };", 1, 28, "Expected ':' after the field name 'a', found '1'");
    expect_error("func:f = int32() { x = S{a: 1 b: 2}; };", 1, 31, "Expected ',' or '}' in the S literal opened at 1:25, found 'b'");
    expect_error("func:f = int32() { if a { } };", 1, 23, "Expected '(' after 'if', found 'a'");
    expect_error("func:f = int32() { if (a) };", 1, 27, "Expected a statement or block, found '}'");
}

TEST_CASE("parser errors: declarations", "[parser][errors]") {
    expect_error("func:f = int32() { int32 x = 1; };", 1, 26, "Expected ':' between the type and the variable's name, found 'x'");
    expect_error("func:f = int32() { int32:while = 1; };", 1, 26, "Expected a name for the variable, found 'while', which is a reserved word");
    expect_error("func:f = int32() { int32:if = 1; };", 1, 26, "which is a reserved word");
    expect_error("func:f = int32() { int32:5 = 1; };", 1, 26, "Expected a name for the variable, found '5'");
    expect_error("func:f = int32() { wild wild int8->:p = q; };", 1, 25, "Duplicate qualifier 'wild'");
    expect_error("func:f = int32() { wild :p = q; };", 1, 25, "Expected a type in the declaration, found ':'");
    expect_error("func:f = int32() { Result:r = f(); };", 1, 26, "Expected '<' after 'Result', found ':'");
    expect_error("func:f = int32() { Result<int32:r = f(); };", 1, 32, "Expected '>' to close 'Result<...>', found ':'");
    expect_error("func:f = int32() { Vec<int64>:h = g(); };", 1, 23,
                 "Type arguments are only allowed on Result and Handle: 'Vec<...>' is not in the subset");
    expect_error("func:f = int32() { Handle<>:h = g(); };", 1, 27, "Expected a type inside 'Handle<...>', found '>'");
    expect_error("func:f = int32() { int64:x = @cast(h); };", 1, 35, "Expected '<' after '@cast', found '('");
    expect_error("func:f = int32() { int64:x = @size<int64>(h); };", 1, 31,
                 "Expected 'cast' after '@' (the only '@' form is '@cast<T>(expr)')");
}

TEST_CASE("parser errors: items", "[parser][errors]") {
    expect_error("func:f = int32();", 1, 17, "Function 'f' has no body (declare C functions with 'extern func:')");
    expect_error("func f = int32() { };", 1, 6, "Expected ':' after 'func', found 'f'");
    expect_error("func:1 = int32() { };", 1, 6, "Expected a function name after 'func:', found '1'");
    expect_error("func:while = int32() { };", 1, 6, "Expected a function name after 'func:', found 'while' (a reserved word)");
    expect_error("func:f int32() { };", 1, 8, "Expected '=' after the function's name, found 'int32'");
    expect_error("func:f = int32 { };", 1, 16, "Expected '(' to open the parameter list, found '{'");
    expect_error("func:f = int32(int32 a) { };", 1, 22, "Expected ':' between the parameter's type and name, found 'a'");
    expect_error("func:f = int32(int32:a int32:b) { };", 1, 24, "Expected ')' to close the parameter list, found 'int32'");
    expect_error("func:f = (int32:a) { };", 1, 10, "Expected a return type after '=', found '('");
    expect_error("func:f = fixed int32() { };", 1, 10, "Qualifier 'fixed' is not allowed on a return type");
    expect_error("func:f = int32(fixed int32:a) { };", 1, 16, "Qualifier 'fixed' is not allowed on a parameter");
    expect_error("func:f = int32() exit 0;", 1, 18, "Expected '{' to open the body of function 'f', found 'exit'");
    expect_error("pub Type:T = { };", 1, 5, "Expected 'func' or 'struct' after 'pub', found 'Type'");
    expect_error("#[inline] func:f = int32() { };", 1, 1, "Attributes are only allowed before 'extern func'");
    expect_error("#[cold(x)] struct:S = { };", 1, 1, "Attributes are only allowed before 'extern func'");
    expect_error("#[a(b c)] extern func:f = int32();", 1, 7, "Expected ')' to close the attribute arguments, found 'c'");
    expect_error("extern \"C\" { };", 1, 8, "Extern blocks are not supported");
    expect_error("extern func:f = int32() { };", 1, 25, "An extern function has no body");
    expect_error("extern func:drop = int32();", 1, 13, "Expected identifier (the C function's name) after 'extern func:', found 'drop'");
    expect_error("use jit;", 1, 5, "Expected string literal (the file to import) after 'use', found 'jit'");
    expect_error("use \"\";", 1, 5, "The path of a 'use' must not be empty");
    expect_error("use \"a.npk\".x;", 1, 13, "Expected '*' or '{' after '.' in 'use', found 'x'");
    expect_error("use \"a.npk\".{a b};", 1, 16, "Expected '}' to close the 'use' name list, found 'b'");
    expect_error("use \"a.npk\" as 1;", 1, 16, "Expected identifier after 'as', found '1'");
    expect_error("Type:T = { int32:x; };", 1, 12, "Expected 'func' or '}' in the Type block, found 'int32'");
    expect_error("Type:T = {\n  func:m = NIL() { pass; };\n", 3, 1, "Expected '}' to close the Type block opened at 1:10, found end of file");
    expect_error("struct:S = { int32:a, int32:b; };", 1, 21, "Expected ';' after field 'a', found ',' (struct fields end with ';')");
    expect_error("struct:S = { int32 a; };", 1, 20, "Expected ':' between the field's type and name, found 'a'");
    expect_error("struct:S = { 5; };", 1, 14, "Expected a field (type:name;) or '}', found '5'");
    expect_error("impl:Drop:S = { };", 1, 11, "Expected 'for' after 'impl:Drop:', found 'S'");
    expect_error("impl:Drop:for:S { };", 1, 17, "Expected '=' after the impl's struct name, found '{'");
    expect_error("x = 1;", 1, 1, "Expected an item (use, extern func, func, Type, struct or impl), found 'x'");
}

TEST_CASE("parser errors: recovery reports every independent error", "[parser][errors]") {
    auto p = parse(
        "func:main = int32() {\n"
        "    int32:x = ;\n"              // 1: missing initializer
        "    exit x;\n"
        "};\n"
        "\n"
        "func:g = int32(int32 a) {\n"     // 2: bad parameter
        "    pass 1;\n"
        "};\n"
        "\n"
        "func:h = NIL() {\n"
        "    defer free(p);\n"            // 3: defer without block
        "    pass;\n"
        "};\n");
    INFO(diags(*p));
    CHECK(p->diag.error_count() == 3);
    CHECK(has_error(*p, 2, 15, "Expected expression, found ';'"));
    CHECK(has_error(*p, 6, 22, "Expected ':' between the parameter's type and name, found 'a'"));
    CHECK(has_error(*p, 11, 11, "'defer' must be followed by a block"));
    // The good parts are still there.
    CHECK(p->mod->funcs.size() == 2);
}

TEST_CASE("parser errors: recovery inside one body and across Type members", "[parser][errors]") {
    auto p = parse(
        "Type:T = {\n"
        "    func:a = NIL() { x = ; pass; };\n"
        "    func:b = NIL(int32) { pass; };\n"
        "    func:c = NIL() { y = 1 +; z = ); pass; };\n"
        "};\n"
        "func:main = int32() { exit 0; };\n");
    INFO(diags(*p));
    CHECK(p->diag.error_count() == 4);
    CHECK(has_error(*p, 2, 26, "Expected expression, found ';'"));
    CHECK(has_error(*p, 3, 23, "Expected ':' between the parameter's type and name, found ')'"));
    CHECK(has_error(*p, 4, 29, "Expected expression, found ';'"));
    CHECK(has_error(*p, 4, 35, "Expected expression, found ')'"));
    REQUIRE(p->mod->types.size() == 1);
    CHECK(p->mod->types[0].methods.size() == 2);  // a and c
    CHECK(p->mod->funcs.size() == 1);
}

TEST_CASE("parser errors: a missing '}' does not swallow the next item", "[parser][errors]") {
    auto p = parse(
        "func:f = int32() {\n"
        "    if (a) {\n"
        "        exit 1;\n"
        "};\n"
        "func:main = int32() { exit 0 };\n");
    INFO(diags(*p));
    // The '}' on line 4 closes the if; its ';' is then an empty statement.
    CHECK(p->diag.error_count() == 3);
    CHECK(has_error(*p, 4, 2, "Expected expression, found ';'"));
    CHECK(has_error(*p, 5, 1, "Expected '}' to close the block opened at 1:18, found 'func'"));
    CHECK(has_error(*p, 5, 29, "Expected ';' after 'exit' statement, found '}'"));
    REQUIRE(p->mod->funcs.size() == 1);
    CHECK(p->mod->funcs[0]->name == "main");
}

TEST_CASE("parser errors: the error limit stops a hopeless file", "[parser][errors]") {
    std::string text = "func:f = int32() {\n";
    for (int i = 0; i < 200; ++i) text += "  x = ;\n";
    text += "};\n";
    auto p = parse(text);
    CHECK(p->diag.error_count() == kMaxSyntaxErrors + 1);
    CHECK(p->diag.all().back().message.find("Too many syntax errors") != std::string::npos);
}

// ---------------------------------------------------------------------
// Hostile nesting: an error, never a stack overflow
// ---------------------------------------------------------------------

TEST_CASE("parser: 100,000 nested parentheses", "[parser][nesting]") {
    std::string e = std::string(100000, '(') + "1" + std::string(100000, ')');
    auto p = parse("func:f = int32() { x = " + e + "; exit 0; };\n");
    CHECK(p->diag.error_count() == 1);
    CHECK(p->diag.all().at(0).message.find("Nesting too deep") != std::string::npos);
    // The statement after it is still parsed.
    REQUIRE(p->mod->funcs.size() == 1);
    CHECK(p->mod->funcs[0]->body->stmts.size() == 1);
}

TEST_CASE("parser: 100,000 nested blocks", "[parser][nesting]") {
    std::string b = std::string(100000, '{') + std::string(100000, '}');
    auto p = parse("func:f = int32() " + b + ";\nfunc:g = NIL() { pass; };\n");
    INFO(diags(*p).substr(0, 2000));
    CHECK(p->diag.error_count() == 1);
    CHECK(p->diag.all().at(0).message.find("Nesting too deep: more than 256") != std::string::npos);
    CHECK(p->mod->funcs.size() == 2);
}

TEST_CASE("parser: 100,000 unary minus and other prefix chains", "[parser][nesting]") {
    for (const char* op : {"-", "!", "drop ", "drop -", "- !"}) {
        std::string e;
        for (int i = 0; i < 100000; ++i) e += op;
        auto p = parse("func:f = int32() { x = " + e + "1; exit 0; };\n");
        INFO(op);
        CHECK(p->diag.error_count() == 1);
        CHECK(p->diag.all().at(0).message.find("Nesting too deep") != std::string::npos);
    }
}

TEST_CASE("parser: deep nesting of if, else if and Result types", "[parser][nesting]") {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "if (a) ";
    auto p = parse("func:f = int32() { " + s + "exit 1; exit 0; };\n");
    CHECK(p->diag.error_count() == 1);
    CHECK(p->diag.all().at(0).message.find("Nesting too deep") != std::string::npos);

    std::string chain = "if (a) { }";
    for (int i = 0; i < 100000; ++i) chain += " else if (a) { }";
    auto q = parse("func:f = int32() { " + chain + " exit 0; };\n");
    CHECK(q->diag.error_count() == 1);

    std::string t;
    for (int i = 0; i < 100000; ++i) t += "Result<";
    auto r = parse("func:g = NIL(" + t + "int32:x) { pass; };\nfunc:main = int32() { exit 0; };\n");
    CHECK(r->diag.error_count() == 1);
    CHECK(r->mod->funcs.size() == 1);
    CHECK(r->diag.all().at(0).message.find("Nesting too deep") != std::string::npos);
}

TEST_CASE("parser: long operator, call and member chains are bounded", "[parser][nesting]") {
    std::string sum = "1";
    for (int i = 0; i < 100000; ++i) sum += " + 1";
    auto p = parse("func:f = int32() { x = " + sum + "; exit 0; };\n");
    CHECK(p->diag.error_count() == 1);
    CHECK(p->diag.all().at(0).message.find("Expression too complex") != std::string::npos);

    std::string calls = "f";
    for (int i = 0; i < 100000; ++i) calls += "()";
    auto q = parse("func:f = int32() { x = " + calls + "; exit 0; };\n");
    CHECK(q->diag.error_count() == 1);

    std::string members = "a";
    for (int i = 0; i < 100000; ++i) members += ".b";
    auto r = parse("func:f = int32() { x = " + members + "; exit 0; };\n");
    CHECK(r->diag.error_count() == 1);

    // Long but flat is fine: 1000 terms are under the height limit.
    std::string ok = "1";
    for (int i = 0; i < 1000; ++i) ok += " + 1";
    auto s = parse("func:f = int32() { x = " + ok + "; exit 0; };\n");
    CHECK(s->ok);
}

TEST_CASE("parser: 100,000 statements in one block are fine", "[parser][nesting]") {
    std::string b;
    for (int i = 0; i < 100000; ++i) b += "x = 1;\n";
    auto p = parse("func:f = int32() {\n" + b + "};\n");
    CHECK(p->ok);
    CHECK(p->mod->funcs[0]->body->stmts.size() == 100000);
}

TEST_CASE("parser: a realistic program (bug264's shape)", "[parser]") {
    auto p = parse(
        "// header comment\n"
        "extern func:npk_jit_install_add_i32 = int32(wild ?*:page);\n"
        "extern func:npk_jit_call_i32_i32    = int32(wild ?*:page, int32:a, int32:b);\n"
        "\n"
        "func:failsafe = int32(tbb32:err) {\n"
        "    exit 1;\n"
        "};\n"
        "\n"
        "func:main = int32() {\n"
        "    wildx int8->:page = wildx_alloc(64);\n"
        "    fixed int32:write_rc = npk_jit_install_add_i32(page);\n"
        "    fixed int32:seal_rc = wildx_seal(page);\n"
        "    fixed int32:result = npk_jit_call_i32_i32(page, 7i32, 35i32);\n"
        "    fixed int32:free_rc = wildx_free(page);\n"
        "    if (write_rc == 0 && seal_rc == 0 && free_rc == 0 && result == 42i32) {\n"
        "        exit 0;\n"
        "    }\n"
        "    exit 2;\n"
        "};\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    CHECK(p->mod->externs.size() == 2);
    REQUIRE(p->mod->funcs.size() == 2);
    const auto& main = *p->mod->funcs[1];
    REQUIRE(main.body->stmts.size() == 7);
    CHECK(dump_stmt(*main.body->stmts[5]) ==
          "(if (&& (&& (&& (== write_rc 0) (== seal_rc 0)) (== free_rc 0)) (== result 42i32)) { (exit 0) })");
}

// The sample programs of tests/frontend/data: ok_* parse cleanly, err_*
// report errors. They also seed the robustness test.
TEST_CASE("parser: the sample programs in tests/frontend/data", "[parser][data]") {
    namespace fs = std::filesystem;
    size_t ok_files = 0, err_files = 0;
    for (const auto& entry : fs::directory_iterator(NPK_TEST_DATA_DIR)) {
        std::string name = entry.path().filename().string();
        if (entry.path().extension() != ".npk") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto p = parse(text);
        INFO(name << "\n" << diags(*p));
        if (name.rfind("ok_", 0) == 0) {
            CHECK(p->ok);
            ++ok_files;
        } else if (name.rfind("err_", 0) == 0) {
            CHECK_FALSE(p->ok);
            ++err_files;
        }
    }
    CHECK(ok_files >= 5);
    CHECK(err_files >= 1);
}

TEST_CASE("parser: err_mixed.npk reports each of its errors", "[parser][data]") {
    std::ifstream in(std::string(NPK_TEST_DATA_DIR) + "/err_mixed.npk", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto p = parse(text);
    INFO(diags(*p));
    CHECK(has_error(*p, 5, 14, "Integer literal 300i8 does not fit in int8"));
    CHECK(has_error(*p, 6, 15, "Expected expression, found ';'"));
    CHECK(has_error(*p, 7, 11, "'defer' must be followed by a block"));
    CHECK(has_error(*p, 8, 9, "'int8*' is a C pointer type"));
    CHECK(has_error(*p, 9, 11, "Expected ')' to close the 'if' condition, found '{'"));
    CHECK(has_error(*p, 10, 11, "Expected ';' after 'exit' statement, found '}'"));
    CHECK(has_error(*p, 13, 21, "Expected ';' after field 'a', found ','"));
    CHECK(has_error(*p, 14, 12, "Expected 'func' or '}' in the Type block, found 'int32'"));
    CHECK(p->diag.error_count() == 8);
}
