// The language additions of docs/language.md: the parser's shape of
// `while` / `break` / `continue` and `p[i]`, and the lifecycle checker's
// walk of loops to a fixed point (ARIA-014/015/022 through iterations).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "lifecycle_test_util.h"
#include "parser_test_util.h"

namespace npk::test {

TEST_CASE("parser: while, break, continue and p[i]", "[parser][loops]") {
    auto p = parse("func:f = int32() {\n"
                   "    while (i < 3) { a[i] = a[i + 1] * 2; if (i == 1) { break; } continue; }\n"
                   "};\n");
    INFO(diags(*p));
    REQUIRE(p->ok);
    const auto& stmts = p->mod->funcs.at(0)->body->stmts;
    REQUIRE(stmts.size() == 1);
    CHECK(dump_stmt(*stmts[0]) ==
          "(while (< i 3) { (= (index a i) (* (index a (+ i 1)) 2)); (if (== i 1) { (break) }) (continue) })");
    std::multiset<uint32_t> ids;
    collect_ids(*stmts[0], ids);
    CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());  // every node has its own id
}

TEST_CASE("parser: a while body is a block, and break needs its semicolon", "[parser][loops]") {
    expect_error("func:f = int32() { while (a) b = 1; };", 1, 30, "Expected '{' for the 'while' body");
    expect_error("func:f = int32() { while (a) { break } };", 1, 37, "Expected ';' after 'break'");
    expect_error("func:f = int32() { x = a[1; };", 1, 27, "Expected ']' to close the index");
}

TEST_CASE("lifecycle: a release in a loop body is a double free on the next iteration", "[lifecycle][loops]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(8);
    int32:i = 0;
    while (i < 2) {
        free(p);
        i = i + 1;
    }
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-022", at(src, "free(p)"), kDouble));
    // Zero iterations leave p unreleased: a leak at the exit, too.
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0"), kEarly));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: a use after the release in a later iteration is ARIA-015", "[lifecycle][loops]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(8);
    int32:i = 0;
    while (i < 2) {
        drop p;
        if (i == 1) {
            free(p);
        }
        i = i + 1;
    }
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-015", at(src, "p;"), kUnknown));
}

TEST_CASE("lifecycle: a loop that allocates and frees each iteration is clean", "[lifecycle][loops]") {
    auto l = life(R"(func:main = int32() {
    int32:i = 0;
    while (i < 3) {
        i = i + 1;
        wild int8->:q = alloc(8);
        defer { free(q); }
        if (i == 2) { continue; }
        wild int8->:r = alloc(8);
        if (i == 3) {
            free(r);
            break;
        }
        free(r);
    }
    wild int8->:p = alloc(8);
    while (true) {
        free(p);
        break;
    }
    exit 0;
};
)");
    CHECK(errors(*l) == 0);
}

TEST_CASE("lifecycle: leaving a loop body by break or continue leaks what it still owes", "[lifecycle][loops]") {
    const std::string src = R"(func:main = int32() {
    int32:i = 0;
    while (i < 3) {
        i = i + 1;
        wild int8->:q = alloc(8);
        if (i == 1) { continue; }
        if (i == 2) { break; }
        free(q);
    }
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-014", at(src, "continue"), "wild variable 'q' was not freed before continue"));
    CHECK(has_error(*l, "ARIA-014", at(src, "break"), "wild variable 'q' was not freed before break"));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: a break inside an if keeps what the loop released before it", "[lifecycle][loops]") {
    // The break leaves from inside an `if` arm (a nested fork of the flow
    // state): the state after the loop must still see the release.
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(8);
    int32:i = 0;
    while (i < 3) {
        if (i == 1) {
            free(p);
            break;
        }
        i = i + 1;
    }
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-015", at(src, "p;"), kUnknown));
    // Leaving by the condition, p is still owed.
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0"), kEarly));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: a break in an if keeps a release made earlier in the body", "[lifecycle][loops]") {
    // The release is in the loop body, the break in an `if` arm: the
    // state the break leaves with is the whole body's so far, not only
    // the arm's.
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(8);
    int32:i = 0;
    while (true) {
        free(p);
        if (i == 0) {
            break;
        }
        p = alloc(8);
    }
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-015", at(src, "p;"), kUaf));
    CHECK(errors(*l) == 1);
}

TEST_CASE("lifecycle: an alias released in a loop is a double free of its block", "[lifecycle][loops]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(8);
    wild int8->:q = p;
    int32:i = 0;
    while (i < 2) {
        free(q);
        i = i + 1;
    }
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-022", at(src, "free(q)"), "Double free of variable 'q' (already freed)"));
}

TEST_CASE("lifecycle: a helper whose body releases, called in a loop, is a double free", "[lifecycle][loops]") {
    const std::string src = R"(func:drop_it = NIL(wild int8->:x) {
    free(x);
    pass;
};

func:main = int32() {
    wild int8->:p = alloc(8);
    int32:i = 0;
    while (i < 2) {
        raw drop_it(p);
        i = i + 1;
    }
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-022", at(src, "drop_it(p)"), kDouble));
}

TEST_CASE("lifecycle: p[i] and p[i] = v are uses of p", "[lifecycle][loops]") {
    const std::string src = R"(extern func:npk_alloc = wild ?*(uint64:size);
func:main = int32() {
    wild int64->:p = npk_alloc(8u64);
    free(p);
    p[0] = 1i64;
    int64:v = p[0];
    exit 0;
};
)";
    auto l = life(src);
    CHECK(has_error(*l, "ARIA-015", at(src, "p[0] ="), kUaf));
    CHECK(has_error(*l, "ARIA-015", at(src, "p[0];"), kUaf));
}

TEST_CASE("lifecycle: #[consumes(b)] and #[releases(b)] release the argument they name", "[lifecycle][attrs]") {
    const std::string src = R"(extern func:mk = wild ?*();
#[consumes(b)]
extern func:take = int32(int32:n, ?*:b);
#[releases(x)]
extern func:gone = void(?*:x);
func:main = int32() {
    wild int8->:p = mk();
    fixed int32:r = take(1, p);
    gone(p);
    wild int8->:q = mk();
    gone(q);
    exit 0;
};
)";
    auto l = life(src);
    CHECK(error_with_note(*l, "ARIA-022", at(src, "gone(p)"), kDouble, at(src, "take(1"), "first freed here"));
    CHECK(errors(*l) == 1);
}

}  // namespace npk::test
