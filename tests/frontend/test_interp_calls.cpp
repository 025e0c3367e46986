// The interpreter (nitpick-subset.md §5.3, §6.1, §7, §11.1): structs on
// the stack and on the heap, builtins and the runtime's C ABI, extern
// binding, faults and failsafe, and stdlib/jit.npk end to end.
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
// Structs, on the stack and `wild` on the heap (§5.1, §5.3)
// ---------------------------------------------------------------------

TEST_CASE("structs: literals, zero fields, copies, nested fields", "[interp][struct]") {
    auto r = run_text(R"(struct:Point = {
    int32:x;
    int32:y;
};
struct:Line = {
    Point:a;
    Point:b;
    uint8:width;
};
func:len2 = int32(Line:l) {
    int32:dx = l.b.x - l.a.x;
    int32:dy = l.b.y - l.a.y;
    pass dx * dx + dy * dy;
};
)" + in_main(R"(    Point:p = Point{y: 4};
    print_i32(p.x);
    p.x = 3;
    Line:l = Line{b: p};
    p.x = 100;
    print_i32(l.b.x);
    print_i32(raw len2(l));
    l.a = Point{x: 3, y: 4};
    print_i32(raw len2(l));
    if (l.width != 0) {
        exit 1;
    }
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == "0\n3\n25\n0\n");
}

TEST_CASE("structs: a wild struct lives on the heap, with C layout", "[interp][struct]") {
    auto r = run_text(R"(struct:Rec = {
    int8:tag;
    int64:big;
    uint16:small;
    bool:flag;
};
)" + in_main(R"(    wild Rec:h = Rec{tag: -3, big: 5000000000, small: 65535};
    h.flag = true;
    h.big = h.big + 1;
    Rec:copy = h;
    h.tag = 7;
    if (copy.tag != -3) { exit 1; }
    if (h.tag != 7) { exit 2; }
    if (h.big != 5000000001) { exit 3; }
    if (h.small != 65535) { exit 4; }
    if (!h.flag) { exit 5; }
    wildx Rec:z;
    if (z.big != 0 || z.flag) { exit 6; }
    h = Rec{small: 9};
    if (h.tag != 0 || h.small != 9) { exit 7; }
    exit 0;
)"));
    CHECK(r.status == 0);
    // Layout: int8 @0, int64 @8, uint16 @16, bool @18; size 24.
    const npk::StructInfo* rec = r.loaded->sema->structs.front().get();
    CHECK(rec->fields[1].offset == 8);
    CHECK(rec->fields[3].offset == 18);
    CHECK(rec->size == 24);
    // The binding's slot is marked heap.
    bool heap = false;
    for (const auto& [decl, info] : r.loaded->sema->funcs)
        for (const auto& slot : info.slots)
            if (slot.name == "h") heap = slot.heap;
    CHECK(heap);
}

// ---------------------------------------------------------------------
// Builtins and the runtime's C ABI (§7)
// ---------------------------------------------------------------------

TEST_CASE("builtins: alloc/free and the wildx life cycle through the runtime", "[interp][builtin]") {
    uint64_t before = live_pages();
    auto r = run_text(in_main(R"(    wild int8->:p = alloc(32);
    free(p);
    wildx int8->:page = wildx_alloc(64);
    if (wildx_seal(page) != 0) { exit 1; }
    if (wildx_seal(page) != -1) { exit 2; }
    if (wildx_free(page) != 0) { exit 3; }
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(live_pages() == before);
    CHECK(r.err.find("already sealed") != std::string::npos);
    // A second release never reaches the runtime: the gate stops it.
    auto twice = run_text(in_main("    wildx int8->:page = wildx_alloc(64);\n    fixed int32:a = wildx_free(page);\n"
                                  "    fixed int32:b = wildx_free(page);\n    exit 0;\n"));
    CHECK(twice.status == 1);
    CHECK(twice.err.find("main.npk:4:21: runtime error: 'wildx_free' refused: this W^X page was already released") !=
          std::string::npos);
    CHECK(live_pages() == before);
}

TEST_CASE("builtins: sizes are zero-extended from their own width", "[interp][builtin]") {
    // int8 -1 asks for 255 bytes (sign-extended it would be 2^64 - 1 and fail).
    auto r = run_text(in_main(R"(    int8:minus_one = -1;
    wildx int8->:p = wildx_alloc(minus_one);
    print_i32(npk_wildx_state(p));
    int16:m16 = -1;
    wild int8->:q = alloc(m16);
    print_i32(npk_wildx_state(q));
    free(q);
    exit wildx_free(p);
)",
                              "extern func:npk_wildx_state = int32(?*:p);\n"));
    CHECK(r.status == 0);
    CHECK(r.out == "1\n0\n");
}

TEST_CASE("print_i32 prints one decimal int32 per line", "[interp][builtin]") {
    auto r = run_text(in_main("    print_i32(-2147483648);\n    int8:b = -1;\n    print_i32(b);\n    exit 0;\n"));
    CHECK(r.out == "-2147483648\n-1\n");
}

// ---------------------------------------------------------------------
// Extern binding (§3, §7; architecture.md)
// ---------------------------------------------------------------------

TEST_CASE("externs: libc through dlsym, with every integer width", "[interp][extern]") {
    auto r = run_text(R"(extern func:abs = int32(int32:x);
extern func:labs = int64(int64:x);
extern func:toupper = int32(int32:c);
)" + in_main(R"(    print_i32(abs(-42));
    if (labs(-5000000000) != 5000000000) { exit 1; }
    print_i32(toupper(97));
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == "42\n65\n");
}

TEST_CASE("externs: the runtime's own symbols, bound from its table", "[interp][extern]") {
    auto r = run_text(R"(extern func:npk_jit_host_supported = int32();
extern func:npk_wildx_state = int32(?*:p);
extern func:npk_wildx_size = uint64(?*:p);
)" + in_main(R"(    print_i32(npk_jit_host_supported());
    wildx int8->:p = wildx_alloc(10);
    print_i32(npk_wildx_state(p));
    if (npk_wildx_size(p) < 10) { exit 1; }
    drop wildx_free(p);
    print_i32(npk_wildx_state(p));
    exit 0;
)"));
    CHECK(r.status == 0);
    CHECK(r.out == std::to_string(npk_jit_host_supported()) + "\n1\n0\n");
}

TEST_CASE("externs: a missing symbol is an error at the declaration, nothing runs", "[interp][extern]") {
    auto r = run_text(in_main("    print_i32(1);\n    exit npk_no_such_symbol_anywhere();\n",
                              "extern func:abs = int32(int32:x);\n"
                              "extern func:npk_no_such_symbol_anywhere = int32();\n"));
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(has_error(*r.loaded, "", 2, 13, "Extern 'npk_no_such_symbol_anywhere': no symbol"));
}

TEST_CASE("externs: a declaration that contradicts the runtime's signature is rejected", "[interp][extern]") {
    auto r = run_text(in_main("    exit 0;\n", "extern func:npk_wildx_seal = int64(?*:p, int32:x);\n"));
    CHECK(r.status == 1);
    CHECK(has_error(*r.loaded, "", 1, 13,
                    "Extern 'npk_wildx_seal' is declared int64(?*, int32), but the runtime's 'npk_wildx_seal' is int32(?*)"));
}

TEST_CASE("externs: --load libraries are searched before the process", "[interp][extern]") {
    auto r = run_text(in_main("    print_i32(abs(-3));\n    exit 0;\n", "extern func:abs = int32(int32:x);\n"), {},
                      {"libc.so.6"});
    CHECK(r.status == 0);
    CHECK(r.out == "3\n");

    auto bad = run_text(in_main("    exit 0;\n"), {}, {"libnpk-no-such-library.so"});
    CHECK(bad.status == 1);
    CHECK(has_error(*bad.loaded, "", 0, 0, "Cannot load the library 'libnpk-no-such-library.so' given with --load"));
}

// ---------------------------------------------------------------------
// stdlib/jit.npk (§7, §11.1) and the first example
// ---------------------------------------------------------------------

TEST_CASE("jit.npk: compile, call and free add(int32, int32)", "[interp][jit]") {
    if (!npk_test_host_is_x86_64()) npk_test_skip("the JIT helpers need an x86-64 host");
    uint64_t before = live_pages();
    auto r = run_text(R"(use "jit.npk".*;

func:main = int32() {
    Result<int8->>:c = Jit.compile_add_i32();
    if (c.is_error) {
        exit 100;
    }
    wildx int8->:add = c.value;
    print_i32(raw Jit.call_i32_i32(add, 7i32, 35i32));
    print_i32(raw Jit.call_i32_i32(add, -2147483648, -1));
    print_i32(raw Jit.free(add));
    print_i32(raw Jit.free(add));
    exit 0;
};
)" + std::string(kFailsafe));
    CHECK(r.status == 1);  // the second free is refused by the gate: failsafe's exit 1
    CHECK(r.out == "42\n2147483647\n0\n");
    CHECK(r.err.find("runtime error: 'wildx_free' refused: this W^X page was already released") != std::string::npos);
    CHECK(live_pages() == before);
}

TEST_CASE("jit.npk: exhausted quota makes compile_add_i32 fail with 1, leaving nothing", "[interp][jit]") {
    QuotaGuard guard;
    npk_wildx_set_quota(0);
    uint64_t before = live_pages();
    auto r = run_text(R"(use "jit.npk".*;

func:main = int32() {
    Result<int8->>:c = Jit.compile_add_i32();
    if (c.is_error) {
        if (c.error == 1) {
            exit 11;
        }
        exit 12;
    }
    exit 13;
};
)" + std::string(kFailsafe));
    CHECK(r.status == 11);
    CHECK(live_pages() == before);
    CHECK(r.err.find("quota") != std::string::npos);
}

TEST_CASE("jit.npk: a failed seal frees the page once and fails with 3", "[interp][jit]") {
    if (!npk_test_host_is_x86_64()) npk_test_skip("the install helper needs an x86-64 host");
    QuotaGuard guard;
    uint64_t before = live_pages();
    npk_wildx_stats st0{};
    npk_wildx_get_stats(&st0);
    npk::os::testing::fail_nth_os_call(npk::os::testing::OsCall::mprotect, 1);
    auto r = run_text(R"(use "jit.npk".*;

func:main = int32() {
    Result<int8->>:c = Jit.compile_add_i32();
    if (c.is_error) {
        exit 20 + raw narrow(c.error);
    }
    exit 0;
};

func:narrow = int32(int64:e) {
    if (e == 3) {
        pass 3;
    }
    pass 9;
};
)" + std::string(kFailsafe));
    CHECK(r.status == 23);
    CHECK(live_pages() == before);
    npk_wildx_stats st1{};
    npk_wildx_get_stats(&st1);
    CHECK(st1.total_frees - st0.total_frees == 1);  // exactly once
    CHECK(st1.total_seals == st0.total_seals);
}

TEST_CASE("jit.npk: calling through the page of a failed compile is a fault, not a jump", "[interp][jit]") {
    QuotaGuard guard;
    npk_wildx_set_quota(0);
    auto r = run_text(R"(use "jit.npk".*;

func:main = int32() {
    wildx int8->:f = raw Jit.compile_add_i32();
    int32:x = raw Jit.call_i32_i32(f, 1, 2);
    exit x;
};

func:failsafe = int32(tbb32:err) {
    exit 9;
};
)");
    CHECK(r.status == 9);
    CHECK(r.err.find("runtime error: Call through a NULL code page") != std::string::npos);
}

TEST_CASE("examples/jit_add.npk prints and exits with 42", "[interp][jit][example]") {
    if (!npk_test_host_is_x86_64()) npk_test_skip("the example JITs x86-64 code");
    auto r = run_text(slurp(kExamples + "/jit_add.npk"));
    CHECK(r.status == 42);
    CHECK(r.out == "42\n");
    CHECK(r.err.empty());
}

TEST_CASE("examples/jit_add.npk exits with 2 when compiling fails", "[interp][jit][example]") {
    QuotaGuard guard;
    npk_wildx_set_quota(0);
    auto r = run_text(slurp(kExamples + "/jit_add.npk"));
    CHECK(r.status == 2);
    CHECK(r.out.empty());
}

TEST_CASE("npk check --strict stdlib/jit.npk passes", "[interp][jit][cli]") {
    std::string out;
    int status = run_npk({"check", "--strict", std::string(NPK_SOURCE_STDLIB_DIR) + "/jit.npk"}, out);
    INFO(out);
    CHECK(status == 0);
    CHECK(out.empty());
}

TEST_CASE("npk run examples/jit_add.npk prints 42 and exits with it", "[interp][jit][cli][example]") {
    if (!npk_test_host_is_x86_64()) npk_test_skip("the example JITs x86-64 code");
    std::string out;
    int status = run_npk({"run", kExamples + "/jit_add.npk"}, out);
    INFO(out);
    CHECK(status == 42);
    CHECK(out == "42\n");
}

// ---------------------------------------------------------------------
// The runtime gate (issue 9): npk keeps its own table of live blocks and
// pages, so no call the checker missed corrupts npk's heap or aborts it.
// These programs skip the lifecycle check (run_text), as a program the
// checker cannot see through would.
// ---------------------------------------------------------------------
TEST_CASE("gate: free of a wildx page, a double free, a foreign pointer: run-time errors, npk intact", "[interp][gate]") {
    auto page = run_text("func:main = int32() {\n"
                         "    wildx int8->:p = wildx_alloc(64);\n"
                         "    free(p);\n"
                         "    exit 0;\n"
                         "};\n" + std::string(kFailsafe));
    INFO(page.err);
    CHECK(page.status == 1);  // failsafe's exit 1: the fault reached it
    CHECK(page.err.find("main.npk:3:5: runtime error: 'free' refused: 0x") != std::string::npos);
    CHECK(page.err.find("is a W^X page from wildx_alloc: release it with wildx_free") != std::string::npos);

    auto twice = run_text(in_main("    int8->:p = alloc(16);\n    free(p);\n    free(p);\n    exit 0;\n"));
    INFO(twice.err);
    CHECK(twice.status == 1);
    CHECK(twice.err.find("main.npk:4:5: runtime error: 'free' refused: this heap block was already released "
                         "(a double release)") != std::string::npos);
    CHECK(twice.err.find("main.npk:3:5: note: released here") != std::string::npos);

    // The same through the runtime's own symbol, and an alias.
    auto ext = run_text(in_main("    wild int8->:p = alloc(16);\n    wild int8->:q = p;\n    npk_free(p);\n"
                                "    npk_free(q);\n    exit 0;\n",
                                "extern func:npk_free = void(?*:p);\n"));
    INFO(ext.err);
    CHECK(ext.status == 1);
    CHECK(ext.err.find("main.npk:6:5: runtime error: 'npk_free' refused: this heap block was already released") !=
          std::string::npos);
    CHECK(ext.err.find("main.npk:5:5: note: released here") != std::string::npos);

    auto foreign = run_text(in_main("    int8->:s = npk_status_string(0i32);\n    free(s);\n    exit 0;\n",
                                    "extern func:npk_status_string = ?*(int32:code);\n"));
    INFO(foreign.err);
    CHECK(foreign.status == 1);
    CHECK(foreign.err.find("main.npk:4:5: runtime error: 'free' refused: 0x") != std::string::npos);
    CHECK(foreign.err.find("is not a live heap block from alloc") != std::string::npos);

    // free(NULL) is a no-op, a block freed once is fine, and the table
    // forgets an address when alloc hands it out again.
    auto ok = run_text(in_main("    int8->:n = alloc(0);\n    free(n);\n    int8->:p = alloc(16);\n    free(p);\n"
                               "    int8->:q = alloc(16);\n    free(q);\n    exit 5;\n"));
    INFO(ok.err);
    CHECK(ok.status == 5);
    CHECK(ok.err.empty());
}

TEST_CASE("gate: a call through an unsealed or freed page is a run-time error at the call", "[interp][gate][jit]") {
    const std::string ext = "extern func:npk_jit_call_i32_i32 = int32(?*:page, int32:a, int32:b);\n";
    auto unsealed = run_text(in_main("    wildx int8->:q = wildx_alloc(64);\n"
                                     "    fixed int32:r = npk_jit_call_i32_i32(q, 1i32, 2i32);\n    exit 0;\n", ext));
    INFO(unsealed.err);
    CHECK(unsealed.status == 1);
    CHECK(unsealed.err.find("main.npk:4:21: runtime error: Call through code page 0x") != std::string::npos);
    CHECK(unsealed.err.find("it is not sealed (call wildx_seal first)") != std::string::npos);

    auto freed = run_text(in_main("    wildx int8->:q = wildx_alloc(64);\n    fixed int32:f = wildx_free(q);\n"
                                  "    fixed int32:r = npk_jit_call_i32_i32(q, 1i32, 2i32);\n    exit 0;\n", ext));
    INFO(freed.err);
    CHECK(freed.status == 1);
    CHECK(freed.err.find("main.npk:5:21: runtime error: Call through released code: 'npk_jit_call_i32_i32' "
                         "refused: its W^X page was already released") != std::string::npos);
    CHECK(freed.err.find("main.npk:4:21: note: released here") != std::string::npos);
}

TEST_CASE("gate: the runtime's rejections carry the position of the call", "[interp][gate]") {
    // (A second wildx_free is the gate's to refuse: see above.)
    auto r = run_text(in_main("    wildx int8->:p = wildx_alloc(64);\n    fixed int32:a = wildx_seal(p);\n"
                              "    fixed int32:b = wildx_seal(p);\n    fixed int32:c = wildx_free(p);\n"
                              "    if (b == -1i32 && c == 0i32) { exit 4; }\n    exit 0;\n"));
    INFO(r.err);
    CHECK(r.status == 4);  // the program still sees -1 and goes on
    CHECK(r.err.find("main.npk:4:21: warning: 'wildx_seal': the runtime rejected this call: ") != std::string::npos);
    // The runtime itself printed nothing of its own.
    CHECK(r.err.find("\nwildx: ") == std::string::npos);
    CHECK(r.err.rfind("wildx: ", 0) != 0);
}
