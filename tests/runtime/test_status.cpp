// npk/status.h: one status model for every facility — the thread's last
// status and message, the texts, the per-facility rejection counters —
// and the first release's names for the same things.
#include "support.h"

#include <npk/api.h>
#include <npk/status.h>

#include <cstdio>
#include <string>
#include <thread>

using namespace npk::test;

TEST_CASE("the last message is the stderr line without its prefix", "[status]") {
    void* p = npk_wildx_alloc(1);
    REQUIRE(p != nullptr);
    REQUIRE(npk_wildx_seal(p) == 0);
    std::string line;
    {
        StderrCapture err;
        CHECK(npk_wildx_seal(p) == -1);
        line = err.text();
    }
    char want[96];
    std::snprintf(want, sizeof want, "seal(%p) rejected: already sealed", p);
    CHECK(std::string(npk_last_error_message()) == want);
    CHECK(line == "wildx: " + std::string(want) + "\n");
    CHECK(npk_last_error() == NPK_ERR_SEALED);
    CHECK(npk_wildx_last_error() == npk_last_error());
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("the last message names a size for alloc and carries the OS detail", "[status]") {
    SwitchesGuard g;
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(0) == nullptr);
    CHECK(std::string(npk_last_error_message()) == "alloc(0) rejected: zero size");
    CHECK(npk_wildx_free(nullptr) == -1);
    CHECK(std::string(npk_last_error_message()) == "free(0x0) rejected: null pointer");
}

TEST_CASE("the last status and message are per thread and survive successes", "[status]") {
    require_threads();
    SwitchesGuard g;
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(0) == nullptr);
    std::string other_msg;
    int32_t other_code = -1;
    std::thread t([&] {
        other_code = npk_last_error();
        other_msg = npk_last_error_message();
    });
    t.join();
    CHECK(other_code == NPK_OK);
    CHECK(other_msg.empty());
    void* p = npk_wildx_alloc(1);  // a success resets nothing
    REQUIRE(p != nullptr);
    CHECK(npk_last_error() == NPK_ERR_ZERO_SIZE);
    CHECK(std::string(npk_last_error_message()) == "alloc(0) rejected: zero size");
    REQUIRE(npk_wildx_free(p) == 0);
}

TEST_CASE("every status has its text, and reserved gaps and strangers read as unknown", "[status]") {
    CHECK(std::string(npk_status_string(NPK_OK)) == "no error");
    CHECK(std::string(npk_status_string(NPK_ERR_SEALED)) == "already sealed");
    CHECK(std::string(npk_status_string(NPK_ERR_OUT_OF_MEMORY)) == "out of memory");
    for (int32_t code = NPK_ERR_NULL; code <= NPK_ERR_OUT_OF_MEMORY; ++code) {
        CAPTURE(code);
        CHECK(std::string(npk_status_string(code)) != "unknown error");
        CHECK(std::string(npk_status_string(code)) == npk_wildx_error_string(code));
    }
    for (int32_t code = NPK_ERR_JIT_BUILDER_FAILED; code <= NPK_ERR_JIT_BAD_SWITCH; ++code) {
        CAPTURE(code);
        CHECK(std::string(npk_status_string(code)) != "unknown error");
    }
    for (int32_t code : {-1, 15, 31, 51, 63, 73, 79, 85, 95, 96, 1000, INT32_MAX, INT32_MIN}) {
        CAPTURE(code);
        CHECK(std::string(npk_status_string(code)) == "unknown error");
    }
}

TEST_CASE("the first release's names are the same codes", "[status]") {
    STATIC_REQUIRE(NPK_WILDX_OK == NPK_OK);
    STATIC_REQUIRE(NPK_WILDX_ERR_NULL == NPK_ERR_NULL);
    STATIC_REQUIRE(NPK_WILDX_ERR_SEALED == NPK_ERR_SEALED);
    STATIC_REQUIRE(NPK_WILDX_ERR_HASH_MISMATCH == NPK_ERR_HASH_MISMATCH);
    STATIC_REQUIRE(NPK_VERSION == ((NPK_VERSION_MAJOR << 16) | (NPK_VERSION_MINOR << 8) | NPK_VERSION_PATCH));
}

TEST_CASE("rejections are counted per facility", "[status]") {
    SwitchesGuard g;
    npk_wildx_set_quiet(1);
    uint64_t before[NPK_FACILITY_COUNT];
    for (int32_t f = 0; f < NPK_FACILITY_COUNT; ++f) before[f] = npk_rejections(f);
    StatsWatch w;
    CHECK(npk_wildx_seal(nullptr) == -1);         // the heap
    CHECK(npk_wildx_free(nullptr) == -1);         // the heap
    CHECK(npk_jit_install_add_i32(nullptr) == -1);  // the JIT helpers
    CHECK(npk_rejections(NPK_FACILITY_WILDX) == before[NPK_FACILITY_WILDX] + 2);
    CHECK(npk_rejections(NPK_FACILITY_JIT) == before[NPK_FACILITY_JIT] + 1);
    for (int32_t f : {NPK_FACILITY_BUILDER, NPK_FACILITY_VALIDATE, NPK_FACILITY_HANDLE}) {
        CHECK(npk_rejections(f) == before[f]);
    }
    // The heap's statistics count the heap and its helpers.
    CHECK(w.delta().rejections == 3);
    CHECK(npk_rejections(-1) == 0);
    CHECK(npk_rejections(NPK_FACILITY_COUNT) == 0);
}
