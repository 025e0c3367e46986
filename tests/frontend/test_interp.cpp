// The interpreter (nitpick-subset.md §5–§7, §11.1): arithmetic of every
// width, defers, exit, Result flow, structs, extern binding, faults and
// failsafe, and stdlib/jit.npk end to end and on its error paths.
//
// Programs print with print_i32 (captured) or exit with a status; a
// program that checks many things exits with the number of the first
// check that failed, so a wrong interpreter cannot pass by accident.
//
// This file: arithmetic, statements and Result flow; test_interp_calls.cpp:
// structs, builtins, externs, faults and stdlib/jit.npk.
#include <npk/jit.h>
#include <npk/wildx.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "interp_test_util.h"
#include "skip.h"

using namespace npk::test;


// ---------------------------------------------------------------------
// Integer arithmetic: exact wrapping per width and signedness (§4, §5.5)
// ---------------------------------------------------------------------

TEST_CASE("arithmetic: signed widths wrap at their MIN and MAX", "[interp][arith]") {
    auto r = run_text(in_main(R"(    int8:a = 127;
    print_i32(a + 1);
    int8:b = -128;
    print_i32(b - 1);
    print_i32(b * -1);
    int16:c = 32767;
    print_i32(c + 1);
    int16:d = -32768;
    print_i32(d - 1);
    int32:e = 2147483647;
    print_i32(e + 1);
    int32:f = -2147483648;
    print_i32(f - 1);
    print_i32(e * 2);
    int8:g = 100;
    print_i32(g * 3);
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == "-128\n127\n-128\n-32768\n32767\n-2147483648\n2147483647\n-2\n44\n");
}

TEST_CASE("arithmetic: int64 wraps and compares", "[interp][arith]") {
    auto r = run_text(in_main(R"(    int64:max = 9223372036854775807;
    int64:min = -9223372036854775808;
    if (max + 1 != min) { exit 1; }
    if (min - 1 != max) { exit 2; }
    if (max * 2 != -2) { exit 3; }
    if (min < max == false) { exit 4; }
    if (-min != min) { exit 5; }
    exit 0;
)"));
    CHECK(r.status == 0);
}

TEST_CASE("arithmetic: unsigned widths wrap and compare unsigned", "[interp][arith]") {
    auto r = run_text(in_main(R"(    uint8:a = 255;
    if (a + 1 != 0) { exit 1; }
    uint8:z = 0;
    if (z - 1 != 255) { exit 2; }
    uint16:b = 65535;
    if (b + 1 != 0) { exit 3; }
    uint32:c = 0;
    if (c - 1 != 4294967295) { exit 4; }
    uint64:d = 0;
    if (d - 1 != 18446744073709551615) { exit 5; }
    if (d - 1 < 1) { exit 6; }
    uint8:e = 16;
    if (e * 16 != 0) { exit 7; }
    uint32:big = 4000000000;
    if (big / 3 != 1333333333) { exit 8; }
    if (big % 7 != 3) { exit 9; }
    if (-e != 240) { exit 10; }
    exit 0;
)"));
    CHECK(r.status == 0);
}

TEST_CASE("arithmetic: INT_MIN / -1 wraps, and % of it is 0, in every width", "[interp][arith]") {
    auto r = run_text(in_main(R"(    int8:a = -128;
    if (a / -1 != -128) { exit 1; }
    if (a % -1 != 0) { exit 2; }
    int16:b = -32768;
    if (b / -1 != -32768) { exit 3; }
    if (b % -1 != 0) { exit 4; }
    int32:c = -2147483648;
    if (c / -1 != -2147483648) { exit 5; }
    if (c % -1 != 0) { exit 6; }
    int64:d = -9223372036854775808;
    if (d / -1 != -9223372036854775808) { exit 7; }
    if (d % -1 != 0) { exit 8; }
    exit 0;
)"));
    CHECK(r.status == 0);
}

TEST_CASE("arithmetic: / and % truncate toward zero, % takes the dividend's sign", "[interp][arith]") {
    auto r = run_text(in_main(R"(    int32:a = 7;
    int32:b = -7;
    print_i32(a / 2);
    print_i32(b / 2);
    print_i32(a / -2);
    print_i32(b / -2);
    print_i32(a % 2);
    print_i32(b % 2);
    print_i32(a % -2);
    print_i32(b % -2);
    int8:c = -7;
    print_i32(c % 3);
    int64:d = -7;
    print_i32(raw wide_mod(d));
    exit 0;
)",
                              "func:wide_mod = int32(int64:x) {\n    if (x % 3 == -1) {\n        pass 1;\n    }\n"
                              "    pass 0;\n};\n"));
    CHECK(r.status == 0);
    CHECK(r.out == "3\n-3\n-3\n3\n1\n-1\n1\n-1\n-1\n1\n");
}

TEST_CASE("arithmetic: widening keeps values, mixed widths compute in the wider one", "[interp][arith]") {
    auto r = run_text(in_main(R"(    int8:small = -100;
    int32:n = 1000;
    int32:sum = small + n;
    print_i32(sum);
    int64:w = small;
    if (w != -100) { exit 1; }
    uint8:u = 200;
    uint32:uw = u;
    if (uw + u != 400) { exit 2; }
    int8:x = 100;
    int32:y = x + 100i32;
    print_i32(y);
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == "900\n200\n");
}

TEST_CASE("arithmetic: tbb32 is symmetric and ERR is sticky", "[interp][arith]") {
    auto r = run_text(in_main(R"(    tbb32:max = 2147483647;
    tbb32:over = max + 1tbb32;
    tbb32:again = over - 5tbb32;
    tbb32:neg = -max;
    if (over != again) { exit 1; }
    if (over == max) { exit 2; }
    if (neg + max != 0tbb32) { exit 3; }
    tbb32:zero = 0;
    if (max / zero != over) { exit 4; }
    if (-over != over) { exit 5; }
    exit 0;
)"));
    CHECK(r.status == 0);
}

TEST_CASE("Division by zero: a runtime error, then failsafe decides the status", "[interp][fault]") {
    const std::string divide = "func:divide = int32(int32:a, int32:b) {\n    pass a / b;\n};\n";
    // failsafe exits with its own code.
    auto r = run_text(divide + "func:main = int32() {\n    int32:q = raw divide(10, 0);\n    exit q;\n};\n"
                               "func:failsafe = int32(tbb32:err) {\n    print_i32(77);\n    exit 7;\n};\n");
    CHECK(r.status == 7);
    CHECK(r.out == "77\n");
    CHECK(r.err.find("main.npk:2:12: runtime error: Division by zero") != std::string::npos);

    // failsafe returns: the status is the fault's code, and failsafe saw it.
    auto r2 = run_text("func:main = int32() {\n    uint8:z = 0;\n    uint8:q = 5 % z;\n    exit 0;\n};\n"
                       "func:failsafe = int32(tbb32:err) {\n    if (err == 101tbb32) {\n        print_i32(1);\n    }\n};\n");
    CHECK(r2.status == npk::NPK_FAULT_DIVISION_BY_ZERO);
    CHECK(r2.out == "1\n");
    CHECK(r2.err.find("main.npk:3:17: runtime error: Division by zero") != std::string::npos);
}

TEST_CASE("recursion depth is bounded: a runtime error, not a stack overflow", "[interp][fault]") {
    auto r = run_text(R"(func:down = int32(int32:n) {
    pass raw down(n + 1);
};
)" + in_main("    exit raw down(0);\n"));
    CHECK(r.status == 1);  // kFailsafe exits 1
    CHECK(r.err.find("runtime error: Call depth exceeds 1000") != std::string::npos);

    // Deep but bounded recursion works.
    auto ok = run_text(R"(func:sum = int64(int64:n) {
    if (n == 0) {
        pass 0;
    }
    pass n + raw sum(n - 1);
};
)" + in_main("    if (raw sum(900) != 405450) {\n        exit 1;\n    }\n    exit 0;\n"));
    CHECK(ok.status == 0);
}

TEST_CASE("native stack is bounded: tall expressions inside deep recursion", "[interp][fault]") {
    // Each call holds an expression about as tall as the parser allows,
    // so the native stack runs out long before 1000 calls: still a
    // runtime error routed to failsafe.
    std::string chain = "raw f(n + 1)";
    for (int i = 0; i < 1000; ++i) chain += " + 1";
    auto r = run_text("func:f = int32(int32:n) {\n    pass " + chain + ";\n};\n" +
                      "func:main = int32() {\n    exit raw f(0);\n};\n"
                      "func:failsafe = int32(tbb32:err) {\n    if (err == 102tbb32) {\n        exit 3;\n    }\n};\n");
    CHECK(r.status == 3);
    CHECK(r.err.find("runtime error: The native stack is exhausted") != std::string::npos);
}

// ---------------------------------------------------------------------
// Statements: scopes, defers, exit (§5.1, §5.2, §5.4)
// ---------------------------------------------------------------------

TEST_CASE("scopes: shadowing bindings are distinct, assignment reaches the right one", "[interp][stmt]") {
    auto r = run_text(in_main(R"(    int32:x = 1;
    {
        int32:x = 10;
        x = x + 5;
        print_i32(x);
    }
    x = x + 1;
    print_i32(x);
    int32:unset;
    print_i32(unset);
    exit 0;
)"));
    CHECK(r.out == "15\n2\n0\n");
}

TEST_CASE("if / else chains pick one arm", "[interp][stmt]") {
    auto r = run_text(R"(func:sign = int32(int32:n) {
    if (n < 0) {
        pass -1;
    } else if (n == 0) {
        pass 0;
    } else
        pass 1;
};
)" + in_main("    print_i32(raw sign(-5));\n    print_i32(raw sign(0));\n    print_i32(raw sign(9));\n    exit 0;\n"));
    CHECK(r.out == "-1\n0\n1\n");
}

TEST_CASE("defer: newest first at block end, every enclosing block on pass", "[interp][defer]") {
    auto r = run_text(R"(func:work = int32() {
    defer { print_i32(1); }
    defer { print_i32(2); }
    {
        defer { print_i32(3); }
        {
            defer { print_i32(4); }
            defer { print_i32(5); }
            pass 0;
        }
    }
    pass 9;
};
)" + in_main(R"(    {
        defer { print_i32(20); }
        defer { print_i32(21); }
        print_i32(19);
    }
    drop work();
    defer { print_i32(30); }
    print_i32(29);
)"));
    CHECK(r.status == 0);  // main fell off its end after its defers ran
    CHECK(r.out == "19\n21\n20\n5\n4\n3\n2\n1\n29\n30\n");
}

TEST_CASE("defer: a deferred body sees bindings as they are when it runs", "[interp][defer]") {
    auto r = run_text(in_main(R"(    int32:x = 1;
    {
        defer { print_i32(x); }
        x = 2;
    }
    exit 0;
)"));
    CHECK(r.out == "2\n");
}

TEST_CASE("defer: fail and return run the defers too", "[interp][defer]") {
    auto r = run_text(R"(func:failing = int32() {
    defer { print_i32(1); }
    {
        defer { print_i32(2); }
        fail 3;
    }
};

func:returning = int32() {
    defer { print_i32(4); }
    return Result{val: 5};
};
)" + in_main("    drop failing();\n    drop returning();\n    exit 0;\n"));
    CHECK(r.out == "2\n1\n4\n");
}

TEST_CASE("defer: an if arm without braces is a scope of its own", "[interp][defer]") {
    auto r = run_text(in_main(R"(    bool:yes = true;
    if (yes)
        defer { print_i32(1); }
    print_i32(2);
    exit 0;
)"));
    CHECK(r.out == "1\n2\n");
}

TEST_CASE("exit: stops at once, running no defer, in main or deep in a call", "[interp][stmt]") {
    auto r = run_text(in_main("    defer { print_i32(1); }\n    {\n        defer { print_i32(2); }\n        exit 5;\n    }\n"));
    CHECK(r.status == 5);
    CHECK(r.out.empty());

    // exit inside failsafe, reached from a fault deep in a call chain.
    auto deep = run_text(R"(func:inner = int32(int32:d) {
    defer { print_i32(1); }
    pass 10 / d;
};
func:outer = int32() {
    defer { print_i32(2); }
    pass raw inner(0);
};
func:main = int32() {
    defer { print_i32(3); }
    exit raw outer();
};
func:failsafe = int32(tbb32:err) {
    exit 42;
};
)");
    CHECK(deep.status == 42);
    CHECK(deep.out.empty());

    // The status is the int32 operand; the OS keeps its low byte.
    auto neg = run_text(in_main("    exit -1;\n"));
    CHECK(neg.status == -1);
}

TEST_CASE("main falling off its end: its defers run and the status is 0", "[interp][stmt]") {
    auto r = run_text(in_main("    defer { print_i32(8); }\n    int32:x = 1;\n"));
    CHECK(r.status == 0);
    CHECK(r.out == "8\n");
}

// ---------------------------------------------------------------------
// Result flow (§5.2, §6.2, §6.3)
// ---------------------------------------------------------------------

TEST_CASE("Result: pass, fail, raw and the zero of a failed Result", "[interp][result]") {
    auto r = run_text(R"(func:check = int32(int32:n) {
    if (n < 0) {
        fail n;
    }
    pass n * 2;
};
)" + in_main(R"(    Result<int32>:a = check(21);
    if (a.is_error) { exit 1; }
    print_i32(a.value);
    Result<int32>:b = check(-4);
    if (!b.is_error) { exit 2; }
    if (b.error != -4) { exit 3; }
    print_i32(raw check(-4));
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == "42\n0\n");
}

TEST_CASE("Result: a hand-built Result, return r, falling off, NIL", "[interp][result]") {
    auto r = run_text(R"(func:built = int64(int32:flag) {
    return Result{is_error: flag, err: 12, val: 5};
};
func:relay = int64(int32:flag) {
    Result<int64>:r = built(flag);
    return r;
};
func:falls = uint8() {
    uint8:x = 3;
};
func:nothing = NIL() {
    pass;
};
)" + in_main(R"(    Result<int64>:e = relay(7);
    if (!e.is_error || e.error != 12) { exit 1; }
    Result<int64>:o = relay(0);
    if (o.is_error || o.value != 5) { exit 2; }
    Result<uint8>:f = falls();
    if (f.is_error || f.value != 0) { exit 3; }
    Result<NIL>:n = nothing();
    if (n.is_error) { exit 4; }
    exit 0;
)"));
    CHECK(r.status == 0);
}

TEST_CASE("⚑ pass f() returns f's failure unchanged", "[interp][result][deviation]") {
    // Upstream takes f's value and returns success, losing the error.
    auto r = run_text(R"(func:inner = int32(bool:bad) {
    if (bad) {
        fail 17;
    }
    pass 5;
};
func:outer = int64(bool:bad) {
    pass inner(bad);
};
)" + in_main(R"(    Result<int64>:f = outer(true);
    if (!f.is_error) { exit 1; }
    if (f.error != 17) { exit 2; }
    Result<int64>:s = outer(false);
    if (s.is_error || s.value != 5) { exit 3; }
    exit 0;
)"));
    CHECK(r.status == 0);
}

TEST_CASE("⚑ pass / fail / return evaluate their operand before the defers run", "[interp][result][deviation]") {
    // Upstream runs the defers first, so `pass x` would see x == 2.
    auto r = run_text(R"(func:value = int32() {
    int32:x = 1;
    defer { x = 2; }
    pass x;
};
func:code = int32() {
    int32:c = 3;
    defer { c = 4; }
    fail c;
};
func:hand = int32() {
    int32:v = 5;
    defer { v = 6; }
    return Result{val: v};
};
)" + in_main(R"(    print_i32(raw value());
    Result<int32>:c = code();
    if (c.is_error) {
        if (c.error != 3) { exit 1; }
    }
    print_i32(raw hand());
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == "1\n5\n");
}
