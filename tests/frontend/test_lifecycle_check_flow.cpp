// The lifecycle checker (nitpick-subset.md §8.2) across control flow:
// defer (discharged obligations, conditional releases) and if/else
// (forks, joins, arms that leave).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "lifecycle_test_util.h"

using namespace npk::test;
using npk::Severity;

// ---------------------------------------------------------------------
// defer
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: a deferred free discharges, and uses after it are fine (deviation)",
          "[lifecycle][defer][deviation]") {
    auto l = life(R"(extern func:npk_jit_call_i32_i32 = int32(?*:page, int32:a, int32:b);
func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    defer { fixed int32:rc = wildx_free(p); }
    fixed int32:s = wildx_seal(p);
    fixed int32:v = npk_jit_call_i32_i32(p, 1, 2);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    // Upstream applies the defer at once and reports the seal as a use after free.
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: an explicit free after a deferred one is ARIA-022", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    defer { free(p); }
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 5, kDouble));
    CHECK(error_with_note(*l, "ARIA-022", {4, 5}, kDouble, {3, 13}, "first freed here"));
}

TEST_CASE("lifecycle: a defer body is checked from the state at the defer", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    free(p);
    defer { free(p); }
    wild int8->:q = alloc(16);
    free(q);
    defer { drop q; }
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 13, kDouble));
    CHECK(npk::test::has_error(*l, "ARIA-015", 7, 18, "Use after free: variable 'q' was already freed"));
}

TEST_CASE("lifecycle: a defer body's effects do not flow past the defer", "[lifecycle][defer]") {
    // The body frees p only when the block ends, so nothing is freed yet
    // at the seal; the body's own binding is its own business.
    auto l = life(R"(func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    defer {
        wild int8->:scratch = alloc(8);
        free(scratch);
        fixed int32:rc = wildx_free(p);
    }
    fixed int32:s = wildx_seal(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: a conditional free in a defer warns but discharges", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    defer {
        if (c) {
            free(p);
        }
    }
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 0);
    CHECK(count(*l, Severity::Warning) == 1);
    CHECK(npk::test::has_diag(*l, Severity::Warning, "", 3, 5, kConditional));
    CHECK(npk::test::has_diag(*l, Severity::Note, "", 5, 13, "'p' is freed here"));
}

TEST_CASE("lifecycle: a deferred free covers exit too", "[lifecycle][defer]") {
    auto l = life(R"(func:main = int32() {
    wildx int8->:p = alloc(64);
    defer { free(p); }
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: when a defer's block ends, what it freed is released", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    {
        defer { free(p); }
        drop p;
    }
    drop p;
    free(p);
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 2);
    CHECK(npk::test::has_error(*l, "ARIA-015", 7, 10, kUaf));
    CHECK(error_with_note(*l, "ARIA-015", {7, 10}, kUaf, {4, 17}, "freed here"));
    CHECK(npk::test::has_error(*l, "ARIA-022", 8, 5, kDouble));
}

TEST_CASE("lifecycle: a conditional deferred free leaves the binding maybe-released", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    {
        defer { if (c) { free(p); } }
    }
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(npk::test::has_error(*l, "ARIA-015", 6, 10, kUnknown));
    CHECK(errors(*l) == 1);
}

TEST_CASE("lifecycle: two defers freeing one binding are a double free", "[lifecycle][defer]") {
    const std::string src = R"(func:main = int32() {
    wild int8->:p = alloc(16);
    defer { free(p); }
    defer { free(p); }
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 13, kDouble));
}

// ---------------------------------------------------------------------
// Branches
// ---------------------------------------------------------------------

TEST_CASE("lifecycle: freed in both arms is released", "[lifecycle][branch]") {
    const std::string src = R"(func:main = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
    } else {
        free(p);
    }
    drop p;
    exit 0;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-015", 8, 10, kUaf));
}

TEST_CASE("lifecycle: a free on one arm only leaves the obligation pending", "[lifecycle][branch]") {
    const std::string src = R"(func:f = NIL(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
    }
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-014", 6, 1, kScope));
}

TEST_CASE("lifecycle: an arm that leaves does not flow into the join (deviation)", "[lifecycle][branch][deviation]") {
    auto l = life(R"(func:main = int32() {
    wildx int8->:p = wildx_alloc(64);
    fixed int32:rc = wildx_seal(p);
    if (rc != 0) {
        fixed int32:a = wildx_free(p);
        exit 2;
    }
    fixed int32:b = wildx_seal(p);
    fixed int32:c = wildx_free(p);
    exit 0;
};
)");
    INFO(npk::test::dump(*l));
    // Upstream merges the leaving arm and rejects the second seal.
    CHECK(l->diag.all().empty());
}

TEST_CASE("lifecycle: when both arms leave, the code after the if starts from the state before it",
          "[lifecycle][branch][deviation]") {
    auto l = life(R"(func:f = int32(bool:c) {
    wild int8->:p = alloc(16);
    if (c) {
        free(p);
        pass 1;
    } else {
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

TEST_CASE("lifecycle: else-if chains and unbraced arms", "[lifecycle][branch]") {
    auto clean = life(R"(func:f = NIL(int32:k) {
    wild int8->:p = alloc(16);
    if (k == 0) free(p);
    else if (k == 1) { free(p); }
    else free(p);
};
)");
    INFO(npk::test::dump(*clean));
    CHECK(clean->diag.all().empty());

    const std::string src = R"(func:f = NIL(int32:k) {
    wild int8->:p = alloc(16);
    if (k == 0) free(p);
    else if (k == 1) { drop k; }
    else free(p);
    drop p;
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(npk::test::has_error(*l, "ARIA-015", 6, 10, kUnknown));
    CHECK(npk::test::has_error(*l, "ARIA-014", 7, 1, kScope));
    CHECK(errors(*l) == 2);
}

TEST_CASE("lifecycle: an unbraced arm is a scope of its own", "[lifecycle][branch]") {
    const std::string src = R"(func:f = NIL(bool:c) {
    if (c) wild int8->:p = alloc(16);
    wild int8->:q = alloc(16);
    if (c) defer { free(q); }
    drop q;
    free(q);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    // p's scope is the arm; the defer runs when the arm ends, so q may be freed.
    CHECK(npk::test::has_error(*l, "ARIA-014", 2, 12, kScope));
    CHECK(npk::test::has_error(*l, "ARIA-015", 5, 10,
                               "Use of wild pointer 'q' with unknown state"));
    CHECK(npk::test::has_error(*l, "ARIA-022", 6, 5, "Double free of variable 'q' (already freed)"));
    CHECK(errors(*l) == 3);
}

TEST_CASE("lifecycle: a free behind && or || happens on some path only", "[lifecycle][branch]") {
    const std::string src = R"(func:f = NIL(bool:c) {
    wildx int8->:p = wildx_alloc(64);
    bool:gone = c && wildx_free(p) == 0;
    fixed int32:rc = wildx_free(p);
};
)";
    auto l = life(src);
    INFO(npk::test::dump(*l));
    CHECK(errors(*l) == 1);
    CHECK(npk::test::has_error(*l, "ARIA-022", 4, 22, kDouble));
}
