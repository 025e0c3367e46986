// What runs when a block ends besides its defers (nitpick-subset.md §9,
// issue 13): drop.npk's RAII bindings and impl:Drop methods. Each program
// runs in the built npk with --trace-drops, and the test reads the drops
// that ran, in order, from its stderr; impl:Drop methods print.
#include <sys/utsname.h>

#include "sema_test_util.h"
#include "skip.h"

using namespace npk::test;

namespace {

struct Ran {
    int status = -1;
    std::vector<std::string> drops;  // "wildx 'p' in f", in the order they ran
    std::string out, err;
};

// Writes `program` (plus `failsafe`) to a fresh folder and runs it.
Ran run_traced(const std::string& program) {
    const std::filesystem::path dir = make_temp_dir();
    write_file(dir / "main.npk", program + std::string(kFailsafe));
    NpkResult r = run_npk({"run", "--trace-drops", (dir / "main.npk").string()});
    std::filesystem::remove_all(dir);
    Ran ran{r.status, {}, r.out, r.err};
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("npk: drop ", 0) != 0) continue;
        ran.drops.push_back(line.substr(10, line.find(" (") - 10));
    }
    INFO("stdout:\n" << r.out << "stderr:\n" << r.err);
    return ran;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("drops: a block's RAII bindings are released when it ends, newest first", "[drops]") {
    Ran r = run_traced(R"(use "drop.npk".*;
use "handle.npk".*;
struct:Box = {
    int64:v;
};
func:main = int32() {
    {
        wildx int8->:page = wildx_alloc(16);
        wild Box:box = Box{v: 1i64};
        int64:arena = raw HandleArena.create();
        {
            wildx int8->:inner = wildx_alloc(16);
        }
        wild Box:last = Box{v: 2i64};
    }
    exit 0;
};
)");
    CHECK(r.status == 0);
    CHECK(r.drops == Lines{"wildx 'inner' in main", "wild 'last' in main", "arena 'arena' in main",
                           "wild 'box' in main", "wildx 'page' in main"});
}

TEST_CASE("drops: pass, fail and return release every active block, innermost first", "[drops]") {
    Ran r = run_traced(R"(use "drop.npk".*;
func:on_pass = int32() {
    wildx int8->:a = wildx_alloc(16);
    {
        wildx int8->:b = wildx_alloc(16);
        {
            wildx int8->:c = wildx_alloc(16);
            pass 1i32;
        }
    }
    pass 2i32;
};
func:on_fail = int32() {
    wildx int8->:d = wildx_alloc(16);
    {
        wildx int8->:e = wildx_alloc(16);
        fail 3i32;
    }
    pass 0i32;
};
func:on_return = int32() {
    wildx int8->:f = wildx_alloc(16);
    return Result{val: 4i32, err: 0i32, is_error: false};
};
func:main = int32() {
    int32:x = raw on_pass();
    Result<int32>:y = on_fail();
    int32:z = raw on_return();
    if (x != 1i32 || !y.is_error || z != 4i32) { exit 9; }
    exit 0;
};
)");
    CHECK(r.status == 0);
    CHECK(r.drops == Lines{"wildx 'c' in on_pass", "wildx 'b' in on_pass", "wildx 'a' in on_pass",
                           "wildx 'e' in on_fail", "wildx 'd' in on_fail", "wildx 'f' in on_return"});
}

TEST_CASE("drops: exit releases nothing, and pass of the binding itself moves it", "[drops]") {
    Ran r = run_traced(R"(use "drop.npk".*;
func:make = int8->() {
    wildx int8->:mine = wildx_alloc(16);
    wildx int8->:scratch = wildx_alloc(16);
    pass mine;
};
func:main = int32() {
    wildx int8->:got = raw make();
    fixed int32:rc = wildx_free(got);
    wildx int8->:left = wildx_alloc(16);
    {
        wildx int8->:also_left = wildx_alloc(16);
        exit rc + 3i32;
    }
};
)");
    CHECK(r.status == 3);  // the free succeeded: `mine` was not released by make
    CHECK(r.drops == Lines{"wildx 'scratch' in make"});
}

TEST_CASE("drops: a block's drops run before its defers", "[drops]") {
    Ran r = run_traced(R"(use "drop.npk".*;
#[inspects(page)]
extern func:npk_wildx_state = int32(?*:page);
func:main = int32() {
    int8->:seen;
    int32:in_defer = 7i32;
    {
        defer { in_defer = npk_wildx_state(seen); }
        wildx int8->:p = wildx_alloc(16);
        seen = p;
    }
    exit in_defer;
};
)");
    CHECK(r.status == 0);  // the defer saw the page already gone
    CHECK(r.drops == Lines{"wildx 'p' in main"});
}

TEST_CASE("drops: without drop.npk nothing is released automatically", "[drops]") {
    Ran r = run_traced(R"(use "handle.npk".*;
func:main = int32() {
    int64:keep = 0i64;
    {
        int64:arena = raw HandleArena.create();
        keep = arena;
    }
    fixed int32:rc = raw HandleArena.destroy(keep);
    exit 0;
};
)");
    CHECK(r.status == 0);
    CHECK(r.drops.empty());
    CHECK(r.err.find("rejected") == std::string::npos);  // the destroy found the arena alive
}

TEST_CASE("drops: impl:Drop methods run when the value's block ends, newest first", "[drops]") {
    Ran r = run_traced(R"(struct:Noisy = {
    int32:n;
};
impl:Drop:for:Noisy = {
    func:drop = NIL($$m Noisy:self) {
        print_i32(self.n);
        pass;
    };
};
struct:Quiet = {
    int32:n;
};
func:early = int32() {
    Noisy:e = Noisy{n: 30i32};
    {
        Noisy:f = Noisy{n: 40i32};
        pass 0i32;
    }
    pass 1i32;
};
func:main = int32() {
    {
        Noisy:a = Noisy{n: 1i32};
        Quiet:q = Quiet{n: 5i32};
        Noisy:b = Noisy{n: 2i32};
        b.n = 20i32;
    }
    drop early();
    Noisy:never = Noisy{n: 99i32};
    exit 0;
};
)");
    CHECK(r.status == 0);
    // b's drop sees b as it is when the block ends; exit drops nothing.
    CHECK(r.out == "20\n1\n40\n30\n");
    CHECK(r.drops == Lines{"impl:Noisy 'b' in main", "impl:Noisy 'a' in main", "impl:Noisy 'f' in early",
                           "impl:Noisy 'e' in early"});
}

TEST_CASE("drops: an explicit release of an RAII binding is a double free (ARIA-022)", "[drops]") {
    const std::filesystem::path dir = make_temp_dir();
    write_file(dir / "main.npk", std::string(R"(use "drop.npk".*;
func:main = int32() {
    wildx int8->:p = wildx_alloc(16);
    fixed int32:rc = wildx_free(p);
    exit 0;
};
)") + std::string(kFailsafe));
    NpkResult r = run_npk({"check", (dir / "main.npk").string()});
    std::filesystem::remove_all(dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("main.npk:4:22: error: [ARIA-022] Double free of variable 'p'") != std::string::npos);
    CHECK(r.err.find("main.npk:3:18: note: drop.npk releases 'p' when its block ends") != std::string::npos);
}

TEST_CASE("drops: Jit.compile_* pages are released at their block's end", "[drops][jit]") {
    // Jit.compile_add_i32 installs hand-assembled x86-64 bytes: asked of
    // the kernel, not of the JIT, which other CPUs may have too.
    struct utsname host {};
    uname(&host);
    if (std::string(host.machine) != "x86_64") npk_test_skip("Jit.compile_add_i32 needs an x86-64 host");
    Ran r = run_traced(R"(use "drop.npk".*;
use "jit.npk".*;
func:main = int32() {
    int32:sum = 0i32;
    {
        wildx int8->:f = raw Jit.compile_add_i32();
        sum = raw Jit.call_i32_i32(f, 2i32, 3i32);
    }
    exit sum;
};
)");
    CHECK(r.status == 5);
    // jit.npk's own page moves out of compile_add_i32 (pass page): no drop there.
    CHECK(r.drops == Lines{"jit 'f' in main"});
}
