// The parser (nitpick-subset.md §2): every syntax error with its message
// and position, recovery, hostile nesting (an error, never a stack
// overflow), and the sample programs of tests/frontend/data.
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
    expect_error("pub Type:T = { };", 1, 5, "Expected 'func', 'extern' or 'struct' after 'pub', found 'Type'");
    expect_error("#[inline] Type:T = { };", 1, 1,
                 "Attributes are only allowed before 'func', 'extern func' or a Type method, found 'Type'");
    expect_error("#[cold(x)] struct:S = { };", 1, 1, "Attributes are only allowed before 'func', 'extern func'");
    expect_error("#[inline] pub struct:S = { };", 1, 1, "Attributes are only allowed before 'func', 'extern func'");
    expect_error("Type:T = { #[x] y; };", 1, 17, "Expected 'func' after the attributes in the Type block, found 'y'");
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

TEST_CASE("parser: attributes before func, pub func and Type methods, with their positions", "[parser][attrs]") {
    auto p = parse(
        "#[releases(p)]\n"
        "func:drop_it = NIL(int8->:p) { pass; };\n"
        "#[a] #[b(x, y)] pub func:g = NIL(int32:x, int32:y) { pass; };\n"
        "Type:Page = {\n"
        "    #[releases(page)]\n"
        "    func:free = int32(wildx int8->:page) { pass 0; };\n"
        "    func:plain = int32() { pass 0; };\n"
        "};\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    REQUIRE(p->mod->funcs.size() == 2);
    const FuncDecl& f = *p->mod->funcs[0];
    REQUIRE(f.attrs.size() == 1);
    CHECK(f.attrs[0].name == "releases");
    CHECK(f.attrs[0].args == std::vector<std::string>{"p"});
    CHECK((f.attrs[0].loc.line == 1 && f.attrs[0].loc.col == 1));
    CHECK((f.attrs[0].name_loc.line == 1 && f.attrs[0].name_loc.col == 3));
    REQUIRE(f.attrs[0].arg_locs.size() == 1);
    CHECK((f.attrs[0].arg_locs[0].line == 1 && f.attrs[0].arg_locs[0].col == 12));

    const FuncDecl& g = *p->mod->funcs[1];
    CHECK(g.is_pub);
    REQUIRE(g.attrs.size() == 2);
    CHECK(g.attrs[0].name == "a");
    CHECK(g.attrs[0].args.empty());
    CHECK(g.attrs[1].args == std::vector<std::string>{"x", "y"});
    CHECK((g.attrs[1].arg_locs[1].line == 3 && g.attrs[1].arg_locs[1].col == 13));

    REQUIRE(p->mod->types.size() == 1);
    const auto& methods = p->mod->types[0].methods;
    REQUIRE(methods.size() == 2);
    REQUIRE(methods[0]->attrs.size() == 1);
    CHECK(methods[0]->attrs[0].args == std::vector<std::string>{"page"});
    CHECK(methods[0]->owner == "Page");
    CHECK(methods[1]->attrs.empty());
    // The dump shows them where they were written.
    CHECK(dump_module(*p->mod).find("#[a] #[b(x,y)] pub func:g") != std::string::npos);
}

TEST_CASE("parser errors: malformed attributes", "[parser][attrs][errors]") {
    expect_error("#[releases(p) func:f = NIL(int8->:p) { pass; };", 1, 15, "Expected ']' to close the attribute");
    expect_error("#[releases(p,)] func:f = NIL(int8->:p) { pass; };", 1, 14,
                 "Expected a word as an attribute argument, found ')'");
    expect_error("#[] func:f = NIL() { pass; };", 1, 3, "Expected a word (the attribute name) after '#['");
    expect_error("#[a] #[b]", 1, 1, "Attributes are only allowed before 'func', 'extern func' or a Type method");
}
