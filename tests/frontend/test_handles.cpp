// Handles, borrows and casts in the front end (issue 13): Handle<T> as a
// typed int64, @cast, `pub extern`, the handle analysis (ARIA-032, also
// across calls) and the borrow analysis (ARIA-023). Each program goes
// through the built npk, as a user runs it; the tests read its messages.
#include "sema_test_util.h"

using namespace npk::test;

namespace {

// `npk check` (or `run`) of `program` + failsafe, with `extra` files beside it.
NpkResult npk_on(const std::string& program, const std::string& cmd = "check",
                 const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    const std::filesystem::path dir = make_temp_dir();
    write_file(dir / "main.npk", program + std::string(kFailsafe));
    for (const auto& [name, body] : extra) write_file(dir / name, body);
    NpkResult r = run_npk({cmd, (dir / "main.npk").string()});
    std::filesystem::remove_all(dir);
    return r;
}

bool says(const NpkResult& r, const std::string& text) { return r.err.find(text) != std::string::npos; }

size_t count_of(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}

const std::string kUse = "use \"handle.npk\".*;\n";

}  // namespace

// ---------------------------------------------------------------------------
// Handle<T> and @cast.
// ---------------------------------------------------------------------------
TEST_CASE("handles: Handle<T> converts to and from int64, never to another Handle", "[handles][types]") {
    NpkResult ok = npk_on(kUse + R"(func:main = int32() {
    int64:a = raw HandleArena.create();
    Handle<int32>:h = raw HandleArena.alloc(a, 4i64);
    int64:plain = h;
    Handle<int32>:back = plain;
    int64:next = h + 1i64;
    if (h == plain && back == h && next - 1i64 == h) { exit 0; }
    exit 1;
};
)", "run");
    INFO(ok.err);
    CHECK(ok.status == 0);

    NpkResult bad = npk_on(kUse + R"(func:main = int32() {
    Handle<int8>:h = 0i64;
    Handle<int16>:g = h;
    exit 0;
};
)");
    INFO(bad.err);
    CHECK(bad.status == 1);
    CHECK(says(bad, "main.npk:4:23: error: Cannot convert 'Handle<int8>' to 'Handle<int16>'"));
}

TEST_CASE("handles: @cast between integers, pointers and 64-bit words, nothing else", "[handles][cast]") {
    NpkResult ok = npk_on(R"(func:main = int32() {
    int64:big = 300i64;
    int8:low = @cast<int8>(big);
    uint8:u = @cast<uint8>(-1i32);
    wild int8->:p = alloc(8);
    int64:addr = @cast<int64>(p);
    int8->:q = @cast<int8->>(addr);
    fixed bool:same = q == p;
    free(p);
    if (low == 44i8 && u == 255u8 && same) { exit 0; }
    exit 1;
};
)", "run");
    INFO(ok.err);
    CHECK(ok.status == 0);

    NpkResult bad = npk_on(R"(struct:S = {
    int32:x;
};
func:main = int32() {
    S:s = S{x: 1i32};
    int32:i = @cast<int32>(s);
    int32:b = @cast<int32>(true);
    int32->:p = @cast<int32->>(5i32);
    exit 0;
};
)");
    INFO(bad.err);
    CHECK(bad.status == 1);
    CHECK(says(bad, "main.npk:6:15: error: @cast cannot convert 'S' to 'int32'"));
    CHECK(says(bad, "main.npk:7:15: error: @cast cannot convert 'bool' to 'int32'"));
    CHECK(says(bad, "main.npk:8:17: error: @cast cannot convert 'int32' to 'int32->'"));
}

TEST_CASE("handles: pub extern is visible to importers, a local declaration wins, no clash", "[handles][modules]") {
    const std::string lib = "pub extern func:abs = int32(int32:x);\nextern func:labs = int64(int64:x);\n";
    NpkResult ok = npk_on("use \"lib.npk\".*;\nfunc:main = int32() {\n    exit abs(-3);\n};\n", "run",
                          {{"lib.npk", lib}});
    INFO(ok.err);
    CHECK(ok.status == 3);
    NpkResult shadow = npk_on("use \"lib.npk\".*;\nextern func:abs = int32(int32:x);\nfunc:main = int32() {\n"
                              "    exit abs(-4);\n};\n",
                              "run", {{"lib.npk", lib}});
    INFO(shadow.err);
    CHECK(shadow.status == 4);
    NpkResult hidden = npk_on("use \"lib.npk\".*;\nfunc:main = int32() {\n    fixed int64:x = labs(-1i64);\n"
                              "    exit 0;\n};\n",
                              "check", {{"lib.npk", lib}});
    CHECK(hidden.status == 1);
    CHECK(says(hidden, "Unknown function 'labs'"));
}

// ---------------------------------------------------------------------------
// ARIA-032.
// ---------------------------------------------------------------------------
TEST_CASE("handles: a callee that destroys its argument kills the caller's handles", "[handles][aria032]") {
    const std::string helpers = R"(func:destroyer = int32(int64:arena) {
    raw HandleArena.destroy(arena);
    pass 0i32;
};
func:wrapper = int32(int64:a) {
    pass raw destroyer(a);
};
func:bystander = int32(int64:a) {
    pass 0i32;
};
)";
    NpkResult direct = npk_on(kUse + helpers + R"(func:main = int32() {
    int64:a = raw HandleArena.create();
    Handle<int32>:h = raw HandleArena.alloc(a, 4i64);
    drop destroyer(a);
    raw HandleArena.free(h);
    exit 0;
};
)");
    INFO(direct.err);
    CHECK(direct.status == 1);
    CHECK(says(direct, "main.npk:16:26: error: [ARIA-032] Handle 'h' is used after its arena 'a' was destroyed"));
    CHECK(says(direct, "main.npk:15:10: note: arena 'a' destroyed here, by 'destroyer'"));

    // Through a wrapper: the summaries compose.
    NpkResult wrapped = npk_on(kUse + helpers + R"(func:main = int32() {
    int64:a = raw HandleArena.create();
    Handle<int32>:h = raw HandleArena.alloc(a, 4i64);
    int64:before = raw HandleArena.deref(h);
    drop wrapper(a);
    int64:after = raw HandleArena.deref(h);
    exit 0;
};
)");
    INFO(wrapped.err);
    CHECK(wrapped.status == 1);
    CHECK(count_of(wrapped.err, "[ARIA-032]") == 1);  // the use before the call is fine
    CHECK(says(wrapped, "main.npk:17:41: error: [ARIA-032]"));
    CHECK(says(wrapped, "by 'wrapper'"));

    // A callee that keeps its argument alive, and another arena destroyed.
    NpkResult clean = npk_on(kUse + helpers + R"(func:main = int32() {
    int64:a = raw HandleArena.create();
    int64:b = raw HandleArena.create();
    Handle<int32>:h = raw HandleArena.alloc(a, 4i64);
    drop bystander(a);
    drop destroyer(b);
    raw HandleArena.free(h);
    raw HandleArena.destroy(a);
    exit 0;
};
)",
                             "run");
    INFO(clean.err);
    CHECK(clean.status == 0);
}

TEST_CASE("handles: #[destroys_arena] on an extern names the destroyed parameter", "[handles][aria032]") {
    NpkResult r = npk_on(kUse + R"(#[destroys_arena(victim)]
extern func:npk_handle_arena_destroy = void(int64:victim);
func:main = int32() {
    int64:a = raw HandleArena.create();
    int64:h = raw HandleArena.alloc(a, 4i64);
    npk_handle_arena_destroy(a);
    int64:p = raw HandleArena.deref(h);
    exit 0;
};
)");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(says(r, "main.npk:8:37: error: [ARIA-032]"));
    CHECK(says(r, "main.npk:7:5: note: arena 'a' destroyed here"));
}

TEST_CASE("handles: a handle into a local arena must not leave the function", "[handles][aria032]") {
    NpkResult r = npk_on(kUse + R"(struct:Box = {
    int64:h;
};
func:by_name = int64() {
    int64:a = raw HandleArena.create();
    Handle<int8>:h = raw HandleArena.alloc(a, 1i64);
    pass h;
};
func:inline_alloc = int64() {
    int64:a = raw HandleArena.create();
    pass raw HandleArena.alloc(a, 1i64);
};
func:in_struct = Box() {
    int64:a = raw HandleArena.create();
    int64:h = raw HandleArena.alloc(a, 1i64);
    Box:b = Box{h: h};
    pass b;
};
func:in_literal = Box() {
    int64:a = raw HandleArena.create();
    int64:h = raw HandleArena.alloc(a, 1i64);
    return Result{val: Box{h: h}, err: 0i32, is_error: false};
};
func:from_param = int64(int64:a) {
    int64:h = raw HandleArena.alloc(a, 1i64);
    pass h;
};
func:main = int32() {
    exit 0;
};
)");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(says(r, "main.npk:8:10: error: [ARIA-032] Handle 'h' is returned but its arena 'a' is local"));
    CHECK(says(r, "main.npk:12:14: error: [ARIA-032] The handle allocated here is returned"));
    CHECK(says(r, "main.npk:18:10: error: [ARIA-032] 'b' holds handle 'h'"));
    CHECK(says(r, "main.npk:23:31: error: [ARIA-032] Handle 'h' is returned"));
    CHECK(count_of(r.err, "[ARIA-032]") == 4);  // from_param is fine: the caller owns the arena
    CHECK(says(r, "main.npk:6:11: note: arena 'a' created here"));
}

TEST_CASE("handles: a Handle<T> handed to an extern warns once, @cast<int64> says it is meant", "[handles][aria032]") {
    NpkResult warned = npk_on(kUse + R"(extern func:labs = int64(int64:x);
func:main = int32() {
    int64:a = raw HandleArena.create();
    Handle<int32>:h = raw HandleArena.alloc(a, 4i64);
    int64:plain = h;
    fixed int64:x = labs(h);
    fixed int64:y = labs(@cast<int64>(h));
    fixed int64:z = labs(plain);
    raw HandleArena.destroy(a);
    exit 0;
};
)");
    INFO(warned.err);
    CHECK(warned.status == 0);
    CHECK(count_of(warned.err, "[ARIA-032]") == 1);
    CHECK(says(warned, "main.npk:7:26: warning: [ARIA-032] Handle 'h' is passed to extern 'labs' as a plain int64"));
}

// ---------------------------------------------------------------------------
// ARIA-023.
// ---------------------------------------------------------------------------
TEST_CASE("borrows: one call may not borrow one buffer as $$m and again", "[borrows]") {
    NpkResult r = npk_on(R"(func:copy = int32($$m int8->:dst, $$i int8->:src) {
    pass 0i32;
};
func:both = int32($$m int8->:x, $$m int8->:y) {
    pass 0i32;
};
func:main = int32() {
    wild int8->:a = alloc(8);
    wild int8->:b = alloc(8);
    fixed int32:fine = raw copy(a, b);
    fixed int32:clash = raw copy(a, a);
    fixed int32:worse = raw both(b, b);
    free(a);
    free(b);
    exit 0;
};
)");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(count_of(r.err, "[ARIA-023]") == 2);
    CHECK(says(r, "main.npk:11:37: error: [ARIA-023] Cannot borrow 'a' as shared ($$i) for parameter 'src' of copy"));
    CHECK(says(r, "main.npk:12:37: error: [ARIA-023] Cannot borrow 'b' as mutable ($$m)"));
}

TEST_CASE("borrows: a borrow ends with its block, an if arm included", "[borrows]") {
    NpkResult ok = npk_on(R"(func:main = int32() {
    wild int8->:buf = alloc(8);
    if (true) $$m int8->:w = buf;
    {
        $$m int8->:w2 = buf;
    }
    $$m int8->:w3 = buf;
    exit 0;
};
)");
    INFO(ok.err);
    CHECK(count_of(ok.err, "[ARIA-023]") == 0);

    NpkResult live = npk_on(R"(func:main = int32() {
    wild int8->:buf = alloc(8);
    $$i int8->:r = buf;
    {
        $$m int8->:w = buf;
    }
    free(buf);
    exit 0;
};
)");
    INFO(live.err);
    CHECK(live.status == 1);
    CHECK(says(live, "main.npk:5:20: error: [ARIA-023] Cannot borrow 'buf' as mutable ($$m) for 'w': it is already borrowed shared by 'r'"));
    CHECK(says(live, "main.npk:3:16: note: 'r' borrows 'buf' here, until its block ends"));
    CHECK(says(live, "main.npk:7:5: error: [ARIA-023] 'buf' is released while 'r' still borrows it"));
}

TEST_CASE("handles: #[destroys_arena] on a function of the program counts like its body would", "[handles][aria032]") {
    // The body hides the destroy from the summaries (the arena goes to C
    // as a plain number), so only the attribute says what the call does.
    NpkResult r = npk_on(kUse + R"(extern func:labs = int64(int64:x);
#[destroys_arena(victim)]
func:retire = int32(int64:victim) {
    fixed int64:x = labs(victim);
    pass 0i32;
};
func:main = int32() {
    int64:a = raw HandleArena.create();
    int64:h = raw HandleArena.alloc(a, 4i64);
    drop retire(a);
    int64:p = raw HandleArena.deref(h);
    exit 0;
};
)");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(says(r, "main.npk:12:37: error: [ARIA-032] Handle 'h' is used after its arena 'a' was destroyed"));
    CHECK(says(r, "main.npk:11:10: note: arena 'a' destroyed here, by 'retire'"));

    NpkResult bad = npk_on(kUse + R"(#[destroys_arena(nobody)]
func:retire = int32(int64:victim) {
    pass 0i32;
};
func:main = int32() {
    exit 0;
};
)");
    INFO(bad.err);
    CHECK(bad.status == 1);
    CHECK(says(bad, "'nobody' is not a parameter of 'retire'"));
}
