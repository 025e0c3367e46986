// What must kill the process: a write into a sealed page or a guard page
// (SIGSEGV from the MMU), and a checked call through anything but a sealed
// page (SIGABRT after one line on stderr). Each runs in a forked child.
#include "skip.h"
#include "support.h"

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <functional>

using namespace npk::test;

namespace {

std::string call_line(const void* page, const char* state) {
    char line[160];
    std::snprintf(line, sizeof line, "wildx: call(%p) refused: page is not executable (state: %s)\n", page,
                  state);
    return line;
}

// `volatile` so the compiler keeps the faulting access.
void poke(void* p) { *static_cast<volatile unsigned char*>(p) = 0x42; }
unsigned char peek(const void* p) { return *static_cast<const volatile unsigned char*>(p); }

// A call that must be refused, made in a forked child: `make_page` runs
// there (it may _exit(3) when it cannot set up), the child tells the
// parent which page it made, then calls it through npk_jit_call_i32_i32,
// which must abort.
struct RefusedCall {
    ChildResult child;
    void* page = nullptr;
};

RefusedCall call_in_child(const std::function<void*()>& make_page) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    RefusedCall out;
    out.child = run_child([&] {
        void* p = make_page();
        (void)!write(fds[1], &p, sizeof p);  // tell the parent which page
        (void)npk_jit_call_i32_i32(p, 1, 2);
        _exit(4);
    });
    close(fds[1]);
    REQUIRE(read(fds[0], &out.page, sizeof out.page) == static_cast<ssize_t>(sizeof out.page));
    close(fds[0]);
    return out;
}

}  // namespace

TEST_CASE("a write into a sealed page kills the process with SIGSEGV", "[death]") {
    const ChildResult r = run_child([] {
        void* p = npk_wildx_alloc(1);
        if (p == nullptr || npk_wildx_seal(p) != 0) _exit(3);
        poke(static_cast<char*>(p) + 100);
        _exit(4);  // not reached
    });
    CHECK(r.signaled);
    CHECK(r.signal == SIGSEGV);
    CHECK(r.exit_code == -1);
}

TEST_CASE("a write into a freed page kills the process with SIGSEGV", "[death]") {
    const ChildResult r = run_child([] {
        void* p = npk_wildx_alloc(1);
        if (p == nullptr || npk_wildx_free(p) != 0) _exit(3);
        poke(p);
        _exit(4);
    });
    CHECK(r.signaled);
    CHECK(r.signal == SIGSEGV);
}

TEST_CASE("touching the guard page before or after a page kills the process with SIGSEGV", "[death]") {
    const size_t pg = page_size();
    for (bool after : {false, true}) {
        for (bool write : {false, true}) {
            CAPTURE(after, write);
            const ChildResult r = run_child([&] {
                npk_wildx_set_guard_pages(1);
                char* p = static_cast<char*>(npk_wildx_alloc(2 * pg));
                if (p == nullptr) _exit(3);
                std::memset(p, 1, 2 * pg);  // the usable bytes are fine, to the last one
                char* g = after ? p + 2 * pg : p - 1;
                if (write) poke(g);
                else (void)peek(g);
                _exit(4);
            });
            CHECK(r.signaled);
            CHECK(r.signal == SIGSEGV);
        }
    }
}

TEST_CASE("a call through a freed page aborts with the documented line", "[death]") {
    const RefusedCall c = call_in_child([] {
        void* p = npk_wildx_alloc(1);
        if (p == nullptr) _exit(3);
        if (npk_test_host_is_x86_64()) (void)npk_jit_install_add_i32(p);
        if (npk_wildx_seal(p) != 0 || npk_wildx_free(p) != 0) _exit(3);
        return p;
    });
    CHECK(c.child.signaled);
    CHECK(c.child.signal == SIGABRT);
    CHECK(c.child.err == call_line(c.page, "freed"));
}

TEST_CASE("a call through a writable page aborts with the documented line, even when quiet", "[death]") {
    for (bool quiet : {false, true}) {
        CAPTURE(quiet);
        const RefusedCall c = call_in_child([quiet] {
            npk_wildx_set_quiet(quiet ? 1 : 0);
            void* p = npk_wildx_alloc(1);
            if (p == nullptr) _exit(3);
            if (npk_test_host_is_x86_64()) (void)npk_jit_install_add_i32(p);
            return p;
        });
        CHECK(c.child.signaled);
        CHECK(c.child.signal == SIGABRT);
        CHECK(c.child.err == call_line(c.page, "writable"));
    }
}

TEST_CASE("a call through NULL, a foreign or an interior pointer aborts naming what it is", "[death]") {
    static int foreign = 0;
    struct Case {
        int which;
        const char* state;
    };
    for (const Case k : {Case{0, "null"}, Case{1, "not a wildx page"}, Case{2, "interior pointer"}}) {
        CAPTURE(k.state);
        const RefusedCall c = call_in_child([k]() -> void* {
            if (k.which == 1) return &foreign;
            if (k.which == 2) {
                char* s = static_cast<char*>(npk_wildx_alloc(1));
                if (s == nullptr || npk_wildx_seal(s) != 0) _exit(3);
                return s + 1;
            }
            return nullptr;
        });
        CHECK(c.child.signaled);
        CHECK(c.child.signal == SIGABRT);
        if (k.which == 0) {
            CHECK(c.child.err == "wildx: call(0x0) refused: page is not executable (state: null)\n");
        } else {
            CHECK(c.child.err == call_line(c.page, k.state));
        }
    }
}
