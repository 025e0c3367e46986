// Function names: npk_jit_builder_name, the default jit_fn_<address>, and
// npk_jit_name, on the good path and every bad one.
#include "support.h"
#include "tools_support.h"

#include <npk/jitbuild.h>

#include <cstring>
#include <string>
#include <vector>

using namespace npk::test;

TEST_CASE("a built function has the name its builder gave it", "[tools][names]") {
    void* fn = build_const(7, "my.func$1");
    REQUIRE(fn != nullptr);
    CHECK(call_i64(fn) == 7);
    CHECK(name_of(fn) == "my.func$1");
    char buf[64];
    CHECK(npk_jit_name(fn, buf, sizeof buf) == 9);
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("an unnamed function is jit_fn_<address>", "[tools][names]") {
    void* fn = build_const(1, nullptr);
    REQUIRE(fn != nullptr);
    CHECK(name_of(fn) == hex_name(fn));
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("a later name replaces an earlier one", "[tools][names]") {
    npk_jit_builder* b = const_builder(2, "first");
    REQUIRE(npk_jit_builder_name(b, "second") == 0);
    void* fn = npk_jit_build(b);
    REQUIRE(fn != nullptr);
    CHECK(name_of(fn) == "second");
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("names of the longest length and every allowed byte are kept", "[tools][names]") {
    std::string longest(NPK_JIT_MAX_NAME, 'x');
    void* fn = build_const(3, longest.c_str());
    REQUIRE(fn != nullptr);
    CHECK(name_of(fn) == longest);
    REQUIRE(npk_wildx_free(fn) == 0);
    std::string every;
    for (char c = 0x21; c <= 0x7E; ++c) every += c;
    fn = build_const(4, every.c_str());
    REQUIRE(fn != nullptr);
    CHECK(name_of(fn) == every);
    REQUIRE(npk_wildx_free(fn) == 0);
}

TEST_CASE("an invalid name is a sticky misuse and nothing is built", "[tools][names]") {
    const std::string too_long(NPK_JIT_MAX_NAME + 1, 'y');
    struct Bad {
        const char* name;
        const char* why;
    } const bad[] = {{nullptr, "NULL"},
                     {"", "empty"},
                     {too_long.c_str(), "longer than 127"},
                     {"two words", "printable ASCII"},
                     {"tab\there", "printable ASCII"},
                     {"line\nbreak", "printable ASCII"},
                     {"caf\xc3\xa9", "printable ASCII"},
                     {"del\x7f", "printable ASCII"}};
    for (const Bad& c : bad) {
        INFO("name: " << (c.name != nullptr ? c.name : "(NULL)"));
        StatsWatch w;
        npk_jit_builder* b = const_builder(5, nullptr);
        CHECK(npk_jit_builder_name(b, c.name) == -1);
        CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
        CHECK_THAT(std::string(npk_last_error_message()),
                   Catch::Contains("npk_jit_builder_name") && Catch::Contains(c.why));
        CHECK(npk_jit_builder_error(b) == NPK_ERR_INVALID_ARGUMENT);
        CHECK(npk_jit_builder_name(b, "fine") == -1);  // sticky
        CHECK(npk_last_error() == NPK_ERR_JIT_BUILDER_FAILED);
        CHECK(npk_jit_build(b) == nullptr);
        CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
        CHECK(w.delta().live_pages == 0);
        CHECK(w.delta().allocs == 0);
    }
    CHECK(npk_jit_builder_name(nullptr, "x") == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);
}

TEST_CASE("npk_jit_name refuses what is not a live built function", "[tools][names]") {
    char buf[NPK_JIT_MAX_NAME + 1];
    std::strcpy(buf, "unchanged");
    CHECK(npk_jit_name(nullptr, buf, sizeof buf) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);

    static int not_code;
    CHECK(npk_jit_name(&not_code, buf, sizeof buf) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);

    void* fn = build_const(6, "abc");
    REQUIRE(fn != nullptr);
    CHECK(npk_jit_name(static_cast<char*>(fn) + 1, buf, sizeof buf) == -1);  // interior
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    CHECK(npk_jit_name(fn, nullptr, 10) == -1);
    CHECK(npk_last_error() == NPK_ERR_NULL);
    CHECK(npk_jit_name(fn, buf, 3) == -1);  // "abc" needs 4
    CHECK(npk_last_error() == NPK_ERR_JIT_BUFFER_TOO_SMALL);
    CHECK(std::string(buf) == "unchanged");
    CHECK(npk_jit_name(fn, buf, 4) == 3);
    CHECK(std::string(buf) == "abc");
    REQUIRE(npk_wildx_free(fn) == 0);
    CHECK(npk_jit_name(fn, buf, sizeof buf) == -1);  // freed
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);

    void* page = npk_wildx_alloc(64);  // writable, not built
    REQUIRE(page != nullptr);
    CHECK(npk_jit_name(page, buf, sizeof buf) == -1);
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    REQUIRE(npk_wildx_free(page) == 0);
}

TEST_CASE("region functions keep their names, named or not, in any order", "[tools][names]") {
    npk_jit_region* r = npk_jit_region_new();
    REQUIRE(r != nullptr);
    // Unnamed ones first: the chunk learns of names late; then a long run
    // over several chunks.
    const char* names[] = {nullptr, nullptr, "third", nullptr, "fifth", "sixth"};
    std::vector<void*> fns;
    std::vector<std::string> want;
    for (int i = 0; i < 3000; ++i) {
        std::string name;
        if (i < 6) {
            name = names[i] != nullptr ? names[i] : "";
        } else if (i % 3 != 0) {
            name = "fn_" + std::to_string(i);
        }
        void* fn = npk_jit_region_add(r, const_builder(i, name.empty() ? nullptr : name.c_str()));
        REQUIRE(fn != nullptr);
        fns.push_back(fn);
        want.push_back(name);
    }
    CHECK(npk_jit_name(fns[2], nullptr, 0) == -1);  // not sealed: not a function yet
    CHECK(npk_last_error() == NPK_ERR_JIT_NOT_FUNCTION);
    REQUIRE(npk_jit_region_seal(r) == 0);
    for (size_t i = 0; i < fns.size(); ++i) {
        INFO("function " << i);
        CHECK(call_i64(fns[i]) == static_cast<int64_t>(i));
        CHECK(name_of(fns[i]) == (want[i].empty() ? hex_name(fns[i]) : want[i]));
    }
    REQUIRE(npk_jit_region_free(r) == 0);
}

TEST_CASE("a region freed unsealed frees its names", "[tools][names]") {
    // LeakSanitizer (the ASan build) checks that nothing is left behind.
    npk_jit_region* r = npk_jit_region_new();
    REQUIRE(r != nullptr);
    REQUIRE(npk_jit_region_add(r, const_builder(1, "a")) != nullptr);
    REQUIRE(npk_jit_region_add(r, const_builder(2, nullptr)) != nullptr);
    StatsWatch w;
    REQUIRE(npk_jit_region_free(r) == 0);
    CHECK(w.delta().live_pages == -1);
}
