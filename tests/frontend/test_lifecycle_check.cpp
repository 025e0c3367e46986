// The lifecycle checker (nitpick-subset.md §8.2): ARIA-014 leaks,
// ARIA-015 uses after free, ARIA-022 double frees.
//
// Each program is loaded (lex, parse, `use`), type checked for the facts
// the lifecycle check reads, and handed to check_lifecycle. Positions are found in the source text itself
// (`at`), so a test names the very token it expects the message on.
#include <algorithm>
//
// This file: tracked bindings, releases (ARIA-022), uses (ARIA-015) and
// leaks (ARIA-014); test_lifecycle_check_flow.cpp: defer and branches;
// test_lifecycle_check_scopes.cpp: shadowing, assignment, the worked
// example and the scope of the check.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "lifecycle_test_util.h"

using namespace npk::test;
using npk::Severity;


// ---------------------------------------------------------------------
// Tracked bindings
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a freed wild binding is clean", "[lifecycle]") {
    auto l = life(R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: any initializer of a wild or wildx local makes it tracked", "[lifecycle]") {
    const std::string src = R"(func:make = wildx int8->() {
    wildx int8->:page = wildx_alloc(64);
    pass page;
};
func:main = int32() {
    wildx int8->:f = raw make();
    wild int64:n = 5;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l, "ARIA-014") == 2);
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0;"), "wild variable 'f' was not freed"));
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0;"), "wild variable 'n' was not freed"));
}

TEST_CASE("lifecycle: plain pointers and parameters are tracked for double frees, owing no release (issue 9)",
          "[lifecycle]") {
    auto l = life(R"(func:use_param = int32(wild int8->:p) {
    free(p);
    free(p);
    pass 0;
};
func:main = int32() {
    int8->:q = alloc(16);
    wild int8->:z;
    fixed int32:rc = 0;
    int8->:r = alloc(16);
    free(q);
    free(q);
    exit rc;
};
)");
    INFO(npk::test::dump(*l));
    // Both double frees corrupted npk's heap before; neither q nor r (no
    // `wild`), nor the parameter, nor z (no initializer) owes a release.
    CHECK(errors(*l) == 2);
    CHECK(error_with_note(*l, "ARIA-022", {3, 5}, "Double free of variable 'p'", {2, 5}, "first freed here"));
    CHECK(error_with_note(*l, "ARIA-022", {12, 5}, "Double free of variable 'q'", {11, 5}, "first freed here"));
    CHECK(errors(*l, "ARIA-014") == 0);
}

// ---------------------------------------------------------------------
// Release calls and ARIA-022
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a second free is ARIA-022 with a note at the first", "[lifecycle][aria022]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    REQUIRE(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 5, kDouble));
    CHECK(error_with_note(*l, "ARIA-022", {4, 5}, kDouble, {3, 5}, "first freed here"));
    // The released argument is not also a use after free.
    CHECK(errors(*l, "ARIA-015") == 0);
}

TEST_CASE("⚑ lifecycle: a release name alone releases nothing, #[releases(p)] does (issue 9)",
          "[lifecycle][aria022][deviation]") {
    // §8.2 lists release names; a name says nothing about what a function
    // does, and trusting it let a program free twice at run time.
    const char* names[] = {"npk_free",    "dealloc",       "deallocate",  "destroy",   "close",
                           "dispose",     "cleanup",       "arena_reset", "arena_destroy", "buffer_free",
                           "string_free", "pool_free",     "file_close",  "tree_destroy", "lock_release"};
    for (const char* name : names) {
        const std::string n = name;
        const std::string body = "func:main = int32() {\n"
                                 "    wild int8->:p = alloc(16);\n"
                                 "    " + n + "(p);\n"
                                 "    " + n + "(p);\n"
                                 "    exit 0;\n"
                                 "};\n";
        // Declared after main, so positions stay put.
        auto plain = life(body + "extern func:" + n + " = void(?*:p);\n");
        INFO(name << "\n" << npk::test::dump(*plain));
        CHECK(errors(*plain) == 1);
        CHECK(has_error(*plain, "ARIA-014", {5, 5}, "wild variable 'p' was not freed"));
        auto marked = life(body + "#[releases(p)]\nextern func:" + n + " = void(?*:p);\n");
        INFO(npk::test::dump(*marked));
        CHECK(errors(*marked) == 1);
        CHECK(error_with_note(*marked, "ARIA-022", {4, 5}, kDouble, {3, 5}, "first freed here"));
    }
}

TEST_CASE("lifecycle: a method releases what its body releases, whatever its name (issue 9)", "[lifecycle][aria022]") {
    const std::string src = R"(Type:Pool = {
    func:give_back = int32(wild int8->:p) { free(p); pass 0; };
    func:free = int32(wild int8->:p) { pass 0; };
};
func:main = int32() {
    wild int8->:p = alloc(16);
    drop Pool.give_back(p);
    drop Pool.give_back(p);
    wild int8->:q = alloc(16);
    drop Pool.free(q);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // Pool.give_back frees its argument (its body says so); Pool.free,
    // despite its name, does not.
    CHECK(has_error(*l, "ARIA-022", at(src, "Pool.give_back(p);", 2), kDouble));
    CHECK(has_error(*l, "ARIA-014", at(src, "exit 0;"), "wild variable 'q' was not freed"));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: names that only look like releases do not release", "[lifecycle]") {
    for (const char* name : {"freeze", "free_list", "releaser", "closer", "undestroy_now", "my_freer"}) {
        const std::string src = std::string("func:main = int32() {\n"
                                            "    wild int8->:p = alloc(16);\n"
                                            "    ") + name + "(p);\n"
                                "    exit 0;\n"
                                "};\n";
        auto l = life(src);
        INFO(name << "\n" << npk::test::dump(*l));
        CHECK(errors(*l) == 1);
        CHECK(npk::test::has_error(*l, "ARIA-014", 4, 5, kEarly));
    }
}

TEST_CASE("lifecycle: only a bare tracked first argument is released", "[lifecycle]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    wild int8->:q = alloc(16);
    free(q, p);
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // free(q, p) releases q only; p is an ordinary (live) argument there.
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: freeing a maybe-released binding is ARIA-022", "[lifecycle][aria022]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
    }
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 6, 5, kDouble));
    CHECK(error_with_note(*l, "ARIA-022", {6, 5}, kDouble, {4, 9}, "first freed here"));
}

// ---------------------------------------------------------------------
// Uses and ARIA-015
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: uses of a live binding are clean", "[lifecycle][aria015]") {
    auto l = life(R"(extern func:npk_jit_install_add_i32 = int32(?*:page);
func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    fixed int32:w = npk_jit_install_add_i32(p);
    fixed int32:s = wildx_seal(p);
    int8->:alias = p;
    bool:same = p == alias;
    fixed int32:rc = wildx_free(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: a use after free is ARIA-015 wherever it appears", "[lifecycle][aria015]") {
    const std::string head = "extern func:npk_jit_install_add_i32 = int32(?*:page);\n"
                             "func:f = int32(int32:n) {\n"
                             "    wild int8->:p = alloc(16);\n"
                             "    free(p);\n";
    const std::string tail = "    pass 0;\n};\n";
    struct Case {
        const char* stmt;
        const char* needle;  // the `p` the error points at
    };
    const Case cases[] = {
        {"    fixed int32:s = wildx_seal(p);\n", "p);"},
        {"    fixed int32:w = npk_jit_install_add_i32(p);\n", "p);"},
        {"    bool:b = p == p;\n", "p =="},
        {"    int8->:q = p;\n", "p;"},
        {"    wild int8->:q = p;\n    free(q);\n", "p;"},
        {"    drop p;\n", "p;"},
        {"    if (p != p) { pass 1; }\n", "p !="},
        {"    pass p;\n", "p;"},
        {"    fail p;\n", "p;"},
        {"    exit p;\n", "p;"},
    };
    for (const Case& c : cases) {
        const std::string src = head + c.stmt + tail;
        auto l = life(src);
        INFO(c.stmt << npk::test::dump(*l));
        const size_t line_start = head.size();
        At want = at(std::string_view(src).substr(line_start), c.needle);
        want.line += 4;
        CHECK(has_error(*l, "ARIA-015", want, kUaf));
        CHECK(error_with_note(*l, "ARIA-015", want, kUaf, {4, 5}, "freed here"));
        // An alias of the freed block is the same block: freeing it again
        // is a double free too (issue 9).
        CHECK(errors(*l, "ARIA-022") == (std::string(c.stmt).find("free(q)") != std::string::npos ? 1u : 0u));
    }
}

TEST_CASE("lifecycle: a use after a free on one path reports the unknown state", "[lifecycle][aria015]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wildx int8->:p = wildx_alloc(64);
    if (c) {
        fixed int32:rc = wildx_free(p);
    }
    fixed int32:s = wildx_seal(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(npk::test::has_error(*l, "ARIA-015", 6, 32, kUnknown));
    CHECK(error_with_note(*l, "ARIA-015", {6, 32}, kUnknown, {4, 26}, "may have been freed here"));
    // Still pending on the path that did not free it.
    CHECK(npk::test::has_error(*l, "ARIA-014", 7, 5, kEarly));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: the object of x.f is not a use", "[lifecycle][aria015]") {
    const std::string src = R"(struct:Cell = { int64:v; };
func:main = int32() {
    wild Cell:c = Cell{v: 1};
    free(c);
    int64:v = c.v;
    c.v = 2;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: drop p is a use, not a release (deviation from upstream)", "[lifecycle][deviation]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // Upstream counts `drop p` as freeing p; npk: it frees nothing, so p leaks.
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 4, 5, kEarly));

    const std::string after = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    drop p;
    exit 0;
};
)";
    auto l2 = life(after);
    INFO(npk::test::dump(*l2));
    CHECK(errors(*l2) == 1);
    CHECK(npk::test::has_error(*l2, "ARIA-015", 4, 10, kUaf));
}

// ---------------------------------------------------------------------
// Leaks (ARIA-014)
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a leak at exit/pass/fail/return is reported at the statement", "[lifecycle][aria014]") {
    for (const char* leave : {"exit 1;", "pass 1;", "fail 1;", "return r;"}) {
        const std::string src = std::string("func:f = int32(Result<int32>:r) {\n"
                                            "    wild int8->:p = alloc(16);\n"
                                            "    ") + leave + "\n};\n";
        auto l = life(src);
        INFO(leave << "\n" << npk::test::dump(*l));
        CHECK(errors(*l) == 1);
        CHECK(npk::test::has_error(*l, "ARIA-014", 3, 5, kEarly));
        CHECK(error_with_note(*l, "ARIA-014", {3, 5}, kEarly, {2, 17}, "'p' declared here"));
    }
}

TEST_CASE("lifecycle: freed before the early exit is clean", "[lifecycle][aria014]") {
    auto l = life(R"(func:f = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
        fail 2;
    }
    free(p);
    pass 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: an early exit reports every pending binding of every enclosing block once",
          "[lifecycle][aria014]") {
    const std::string src = R"(func:f = int32(bool:c) {
    wild int8->:p = alloc(16);
    wild int8->:done = alloc(16);
    free(done);
    {
        wild int8->:inner = alloc(8);
        if (c) {
            pass 1;
        }
        free(inner);
    }
    free(p);
    pass 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    CHECK(has_error(*l, "ARIA-014", at(src, "pass 1;"), kEarly));
    CHECK(has_error(*l, "ARIA-014", at(src, "pass 1;"), "wild variable 'inner' was not freed before"));
    CHECK(error_with_note(*l, "ARIA-014", at(src, "pass 1;"), "'inner'", at(src, "inner = "),
                          "'inner' declared here"));
}

TEST_CASE("lifecycle: a leak at a block's end is reported at its closing brace", "[lifecycle][aria014]") {
    const std::string src = R"(func:main = int32() {
    {
        wild int8->:p = alloc(16);
    } // inner end
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(has_error(*l, "ARIA-014", at(src, "} // inner end"), kScope));
    CHECK(error_with_note(*l, "ARIA-014", at(src, "} // inner end"), kScope, at(src, "p = alloc"),
                          "'p' declared here"));
}

TEST_CASE("lifecycle: a function that falls off its end leaks at its closing brace", "[lifecycle][aria014]") {
    const std::string src = R"(func:f = NIL() {
    wild int8->:p = alloc(16);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 3, 1, kScope));
}

TEST_CASE("lifecycle: a block ending in exit reports its leak once (deviation from upstream)",
          "[lifecycle][deviation]") {
    const std::string src = R"(func:main = int32() {
    wildx int8->:buffer = alloc(64);
    exit 1;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // Upstream adds a second, scope-exit report for the same leak.
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 3, 5,
                               "Memory leak on early exit: wild variable 'buffer' was not freed"));
}

TEST_CASE("lifecycle: pass p / return p transfers ownership (deviation from upstream)",
          "[lifecycle][deviation]") {
    auto l = life(R"(func:make = wild int8->() {
    wild int8->:p = alloc(16);
    pass p;
};
func:wrap = wild int8->() {
    wild int8->:q = alloc(16);
    Result<int8->>:r = make();
    return q;
};
func:main = int32() {
    wild int8->:got = raw make();
    free(got);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());

    // Only a bare name moves: anything else is a use, and fail moves nothing.
    const std::string src = R"(func:g = int32() {
    wild int8->:p = alloc(16);
    pass raw use_it(p);
};
func:h = int32() {
    wild int8->:p = alloc(16);
    fail p;
};
)";
    auto l2 = life(src);
    INFO(npk::test::dump(*l2));
    CHECK(errors(*l2) == 2);
    CHECK(npk::test::has_error(*l2, "ARIA-014", 3, 5, kEarly));
    CHECK(npk::test::has_error(*l2, "ARIA-014", 7, 5, kEarly));
}

TEST_CASE("lifecycle: helpers release by body or #[releases], with the allocator's kind (issue 9)", "[lifecycle][aria022]") {
    const std::string src = R"(#[releases(h)]
extern func:give_to_c = void(?*:h);
func:drop_page = int32(wildx int8->:pg) {
    pass wildx_free(pg);
};
#[releases(x)]
func:keeps_it = NIL(int8->:x) {
    pass;
};
func:main = int32() {
    wild int8->:a = alloc(16);
    give_to_c(a);
    wild int8->:b = alloc(16);
    drop drop_page(b);
    wild int8->:c = alloc(16);
    drop keeps_it(c);
    free(c);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // a: released by the extern's attribute, no leak. b: drop_page's body
    // releases a page with wildx_free, but b is a heap block. c: the
    // attribute is the function's word, whatever its body does.
    CHECK(has_error(*l, "", at(src, "drop_page(b)"),
                    "Mismatched release of 'b': it holds a heap block from alloc, which only free releases"));
    CHECK(error_with_note(*l, "ARIA-022", at(src, "free(c)"), "Double free of variable 'c'",
                          at(src, "keeps_it(c)"), "first freed here"));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: a parameter released on some path makes the helper a releaser (issue 9)", "[lifecycle]") {
    const std::string src = R"(func:maybe_free = NIL(int8->:x, bool:c) {
    if (c) {
        free(x);
    }
    pass;
};
func:main = int32() {
    wild int8->:p = alloc(16);
    drop maybe_free(p, true);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // The call discharges p (it may be freed: a later free would be a
    // possible double free); no leak is reported.
    CHECK(l->diag.error_count() == 0);
}
