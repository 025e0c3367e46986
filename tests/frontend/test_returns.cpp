// Which parameters a function may return (analysis/returns.h): the
// may-alias summary the lifecycle check reads for `q = helper(p)`,
// solved on each function's control-flow graph by the dataflow engine.
#include "analysis/returns.h"
#include "sema_test_util.h"

using namespace npk;
using namespace npk::test;

TEST_CASE("returns: a function may return the parameters that reach a pass on some path", "[returns][cfg]") {
    auto l = typecheck_ok(in_main("    exit 0;\n",
                                  "struct:Box = {\n    int8->:p;\n};\n"
                                  "extern func:memset = ?*(?*:p, int32:c, uint64:n);\n"
                                  "#[fresh]\nextern func:strdup = ?*(?*:s);\n"
                                  "func:same = int8->(int8->:a) { pass a; };\n"
                                  "func:second = int8->(int8->:a, int8->:b) { pass b; };\n"
                                  "func:fresh = int8->(int8->:a) { wild int8->:q = alloc(8); q[0] = a[0]; pass q; };\n"
                                  "func:either = int8->(int8->:a, int8->:b, int32:n) {\n"
                                  "    int8->:r = a;\n"
                                  "    if (n == 0i32) { r = b; }\n"
                                  "    pass r;\n"
                                  "};\n"
                                  "func:overwritten = int8->(int8->:a) { int8->:r = a; r = raw fresh(a); pass r; };\n"
                                  "func:via_field = int8->(int8->:a) { Box:x = Box{p: a}; pass x.p; };\n"
                                  "func:via_cast = int8->(int8->:a) { int64:n = @cast<int64>(a); pass @cast<int8->>(n + 8i64); };\n"
                                  "func:via_helper = int8->(int8->:a, int8->:b) { pass raw second(b, a); };\n"
                                  "func:via_memset = int8->(int8->:a) { pass memset(a, 0i32, 1u64); };\n"
                                  "func:via_strdup = int8->(int8->:a) { pass strdup(a); };\n"
                                  "func:in_loop = int8->(int8->:a, int8->:b) {\n"
                                  "    int8->:r = a; int8->:s = a;\n"
                                  "    while (r == s) { r = b; s = b; }\n"  // b reaches r only around the back edge
                                  "    pass s;\n"
                                  "};\n"));
    const ReturnSummaries sums = return_summaries(l->prog, *l->sema);
    auto of = [&](const char* name) {
        const ast::FuncDecl* f = function_named(l->prog, name);
        REQUIRE(f != nullptr);
        return sums.of(f);
    };
    CHECK(of("same") == 0b1);
    CHECK(of("second") == 0b10);
    CHECK(of("fresh") == 0);
    CHECK(of("either") == 0b11);  // the two arms of the if join
    CHECK(of("overwritten") == 0);  // an assignment replaces what r held
    CHECK(of("via_field") == 0b1);
    CHECK(of("via_cast") == 0b1);
    CHECK(of("via_helper") == 0b1);  // second returns its b, which is a
    CHECK(of("via_memset") == 0b1);  // an extern may return its pointer
    CHECK(of("via_strdup") == 0);    // ...unless #[fresh]
    CHECK(of("in_loop") == 0b11);    // the back edge carries b
}
