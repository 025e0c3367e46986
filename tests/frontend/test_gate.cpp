// The run-time gate by identity (issue 19): resources are identities, not
// addresses; every use is checked; the roles of the runtime's functions.
// Programs run without the lifecycle check (run_text), as
// `npk run --unchecked` runs them. The regression programs
// tests/programs/gate_*.npk and gap_*.npk cover each class end to end.
#include <catch2/catch.hpp>
#include <npk/jit.h>
#include <npk/wildx.h>
#include <sys/mman.h>

#include <algorithm>
#include <string>

#include "interp_test_util.h"
#include "run/externs.h"
#include "run/gate.h"
#include "skip.h"

using namespace npk;
using namespace npk::test;

namespace {

const char* const kFail = "func:failsafe = int32(tbb32:err) {\n    exit @cast<int32>(err);\n};\n";
const char* const kExterns =
    "extern func:npk_alloc = wild ?*(uint64:size);\nextern func:npk_status_string = ?*(int32:code);\n";

std::string main_body(const std::string& body) { return "func:main = int32() {\n" + body + "};\n" + kFail; }
// The same after the externs of kExterns (two more lines before main).
std::string with_externs(const std::string& body) { return kExterns + main_body(body); }

size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("gate: every function with a gate role is a runtime function, with one role", "[gate]") {
    const auto& table = runtime_symbols();
    for (const std::string& name : gate_role_names()) {
        INFO(name);
        auto it = std::find_if(table.begin(), table.end(), [&](const RuntimeSymbol& s) { return name == s.name; });
        REQUIRE(it != table.end());
        CHECK(gate_role_of(name) != RuntimeRole::None);
        // The table's own role, if any, is the one the gate refines.
        if (it->role != RuntimeRole::None) CHECK(name == "npk_jit_build");
    }
    CHECK(gate_role_of("npk_jit_build") == RuntimeRole::Build);
    CHECK(gate_role_of("npk_alloc") == RuntimeRole::None);  // the table's HeapAlloc stands
    CHECK(gate_role_of("memset") == RuntimeRole::None);
}

TEST_CASE("gate: a stale alias never reaches the newer block at the same address", "[gate]") {
    // q is released through p; the next alloc of the same size gets the
    // same address back from malloc; freeing q must not free r.
    auto r = run_text(main_body("    int8->:p = alloc(16);\n    int8->:q = p;\n    free(p);\n"
                                "    int8->:r = alloc(16);\n    r[15] = 7i8;\n    free(q);\n    exit 0;\n"));
    INFO(r.err);
    CHECK(r.status == 105);
    CHECK(r.err.find("main.npk:7:5: runtime error: 'free' refused: this heap block was already released") !=
          std::string::npos);
    CHECK(r.err.find("main.npk:4:5: note: released here") != std::string::npos);
}

TEST_CASE("gate: p[i] is checked against the live block: bounds, release, foreign memory", "[gate]") {
    auto over = run_text(with_externs("    int32->:p = npk_alloc(8u64);\n    p[1] = 1i32;\n    p[2] = 2i32;\n    exit 0;\n"));
    INFO(over.err);
    CHECK(over.status == 109);
    CHECK(over.err.find("main.npk:6:5: runtime error: Index out of bounds: store to element 2 (4-byte elements) "
                        "of a heap block of 8 bytes") != std::string::npos);
    CHECK(over.err.find("main.npk:4:17: note: allocated here") != std::string::npos);

    auto under = run_text(with_externs("    int64->:p = npk_alloc(8u64);\n    int64:x = p[-1];\n    exit 0;\n"));
    CHECK(under.status == 109);
    CHECK(under.err.find("Index out of bounds: load from element -1") != std::string::npos);

    // An interior pointer (arithmetic through @cast: no identity) is found
    // by address among the live blocks, with its own offset.
    auto interior = run_text(main_body(
        "    int8->:p = alloc(8);\n    int8->:q = @cast<int8->>(@cast<int64>(p) + 4i64);\n"
        "    q[3] = 1i8;\n    q[4] = 1i8;\n    exit 0;\n"));
    INFO(interior.err);
    CHECK(interior.status == 109);
    CHECK(interior.err.find("main.npk:5:5: runtime error: Index out of bounds") != std::string::npos);

    // Memory npk never handed out (a C string of the runtime) is the
    // program's business, as in C.
    auto foreign = run_text(with_externs("    int8->:s = npk_status_string(0i32);\n    int8:c = s[0];\n    exit 0;\n"),
                            {}, {});
    CHECK(foreign.status == 0);

    // ... but a machine fault there is a run-time error, not the end of npk
    // (labs declared as returning a pointer: C hands back 0x10).
    auto bad_c = run_text("extern func:labs = ?*(int64:x);\n" +
                          main_body("    int8->:q = labs(16i64);\n    q[0] = 1i8;\n    exit 0;\n"));
    INFO(bad_c.err);
    CHECK(bad_c.status == 109);
    CHECK(bad_c.err.find("main.npk:4:5: runtime error: Machine fault: SIGSEGV at address 0x10 (store to element 0, "
                         "memory npk did not hand out)") != std::string::npos);

    // A pointer made from an integer that points into no live block could
    // be anywhere in npk's own heap: refused.
    auto made = run_text(main_body("    int8->:q = @cast<int8->>(16i64);\n    q[0] = 1i8;\n    exit 0;\n"));
    INFO(made.err);
    CHECK(made.status == 109);
    CHECK(made.err.find("main.npk:3:5: runtime error: Refused: store to element 0 through a pointer npk cannot trace") !=
          std::string::npos);

    // An interior pointer into a released block is a use after release.
    auto stale = run_text(with_externs("    int8->:p = npk_alloc(32u64);\n"
                                       "    int8->:q = @cast<int8->>(@cast<int64>(p) + 8i64);\n"
                                       "    free(p);\n    q[0] = 1i8;\n    exit 0;\n"));
    INFO(stale.err);
    CHECK(stale.status == 109);
    CHECK(stale.err.find("main.npk:7:5: runtime error: Use after release: store to element 0 of a heap block") !=
          std::string::npos);
}

TEST_CASE("gate: builders and regions are identities: a second free, a use after free or build", "[gate][jit]") {
    if (!npk_jit_host_supported()) npk_test_skip("the builder needs a JIT host");
    const std::string use = "use \"jit.npk\".*;\n\n";
    auto built = run_text(use + main_body("    wild JitBuilder->:b = raw Jit.builder_i64();\n"
                                          "    raw Jit.ret(b, raw Jit.param_i64(b));\n"
                                          "    wildx int8->:f = raw Jit.compile_function(b);\n"
                                          "    drop Jit.builder_free(b);\n    exit 0;\n"));
    INFO(built.err);
    CHECK(built.status == 105);
    CHECK(built.err.find("runtime error: 'npk_jit_builder_free' refused: this builder was already released") !=
          std::string::npos);
    CHECK(built.err.find("main.npk:6:26: note: released here") != std::string::npos);
    CHECK(built.err.find("main.npk:7:10: note: called from here") != std::string::npos);

    auto sealed = run_text(use + main_body("    wild JitRegion->:r = raw Jit.region();\n"
                                           "    drop Jit.region_free(r);\n    drop Jit.region_seal(r);\n"
                                           "    exit 0;\n"));
    INFO(sealed.err);
    CHECK(sealed.status == 110);
    CHECK(sealed.err.find("'npk_jit_region_seal' refused: its region was already released") != std::string::npos);
}

TEST_CASE("gate: a builder's misuse is reported once, at the program's call, naming the Jit method", "[gate][jit]") {
    if (!npk_jit_host_supported()) npk_test_skip("the builder needs a JIT host");
    auto r = run_text("use \"jit.npk\".*;\n\n" +
                      main_body("    wild JitBuilder->:b = raw Jit.builder_i64();\n"
                                "    JitVar:x = raw Jit.param_i64(b);\n    JitVar:f = raw Jit.var_f64(b);\n"
                                "    raw Jit.add(b, x, x, f);\n    raw Jit.add(b, x, x, x);\n    raw Jit.ret(b, x);\n"
                                "    raw Jit.ret(b, x);\n    drop Jit.builder_free(b);\n    exit 0;\n"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(count(r.err, "warning:") == 1);
    CHECK(r.err.find("main.npk:7:9: warning: 'Jit.add': the runtime rejected this call: npk_jit_op(") !=
          std::string::npos);
    CHECK(r.err.find("jit.npk:") == std::string::npos);  // nothing located inside the library
}

TEST_CASE("gate: a resource released long ago is still released, after the gate forgot its details", "[gate]") {
    // 70,000 releases push the first block out of the 65,536 the gate
    // remembers; its identity still says "released", without a position.
    auto r = run_text(main_body("    int8->:first = alloc(16);\n    int8->:keep = first;\n    free(first);\n"
                                "    int32:i = 0i32;\n    while (i < 70000i32) {\n        int8->:p = alloc(16);\n"
                                "        free(p);\n        i = i + 1i32;\n    }\n    free(keep);\n    exit 0;\n"));
    INFO(r.err);
    CHECK(r.status == 105);
    CHECK(r.err.find("main.npk:11:5: runtime error: 'free' refused: this heap block was already released") !=
          std::string::npos);
    CHECK(r.err.find("note:") == std::string::npos);
}

TEST_CASE("gate: a page the program unmapped itself is refused, whoever holds its address now (issue 18)", "[gate]") {
    // The program munmaps its page; the next page gets the same address
    // (the runtime's hint seam makes the kernel reuse the hole, under
    // qemu too). A release, seal or call through the old value must not
    // reach the new page; the new value works.
    SourceManager sources;
    Diagnostics diag(sources);
    RuntimeGate gate(diag);
    auto page = [&](uint64_t result) {
        gate.before();
        return gate.after(RuntimeRole::PageAlloc, "wildx_alloc", {{4096, 0}}, result, Loc{});
    };
    void* p = npk_wildx_alloc(4096);
    REQUIRE(p != nullptr);
    const uint64_t old_id = page(reinterpret_cast<uintptr_t>(p));
    REQUIRE(munmap(p, 4096) == 0);
    npk::os::testing::hint_next_mapping(p);
    void* q = npk_wildx_alloc(4096);
    REQUIRE(q == p);
    const uint64_t new_id = page(reinterpret_cast<uintptr_t>(q));
    const GateWord old_word{reinterpret_cast<uintptr_t>(p), old_id};
    const GateWord new_word{reinterpret_cast<uintptr_t>(q), new_id};
    for (RuntimeRole role : {RuntimeRole::PageFree, RuntimeRole::PageSeal, RuntimeRole::CodeCall}) {
        const Refusal r = gate.check(role, "wildx_op", {old_word});
        INFO(static_cast<int>(role) << ": " << r.message);
        CHECK(r.refused());
        CHECK(r.message.find("unmapped behind the runtime's back (munmap); its address now holds a newer allocation") !=
              std::string::npos);
    }
    CHECK_FALSE(gate.check(RuntimeRole::PageFree, "wildx_free", {new_word}).refused());
    CHECK_FALSE(gate.check(RuntimeRole::PageSeal, "wildx_seal", {new_word}).refused());
    // At the end of the run the gate hands back the new page only: the old
    // one's address is not the old page's any more.
    gate.release_all();
    CHECK(npk_wildx_state(q) == NPK_WILDX_UNKNOWN);
}
