// The handle arenas (npk/handle.h): every transition of a slot and of an
// arena id, and every rejection, with the status, the counter and the
// stderr line each one must leave behind.
#include "support.h"

#include "handle/table.h"
#include "handle/test_seams.h"

#include <npk/handle.h>
#include <npk/status.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

using namespace npk::test;
using npk::handle::Fields;
using npk::handle::pack;
using npk::handle::unpack;

namespace {

npk_handle_stats hstats() {
    npk_handle_stats s{};
    npk_handle_get_stats(&s);
    return s;
}

// Runs `call`, which must fail with `code`: one more rejection, both for
// the facility and in the handle stats, and nothing else changed.
template <class F>
void expect_rejected(int32_t code, F call) {
    const npk_handle_stats before = hstats();
    const uint64_t facility_before = npk_rejections(NPK_FACILITY_HANDLE);
    call();
    const npk_handle_stats after = hstats();
    CHECK(std::string(npk_status_string(npk_last_error())) == npk_status_string(code));
    CHECK(npk_rejections(NPK_FACILITY_HANDLE) == facility_before + 1);
    CHECK(after.total_rejections == before.total_rejections + 1);
    CHECK(after.live_arenas == before.live_arenas);
    CHECK(after.live_handles == before.live_handles);
    CHECK(after.live_bytes == before.live_bytes);
    CHECK(after.total_allocs == before.total_allocs);
    CHECK(after.total_frees == before.total_frees);
}

void expect_dead(npk_handle_t h, int32_t code) {
    expect_rejected(code, [&] { CHECK(npk_handle_deref(h) == nullptr); });
    expect_rejected(code, [&] { npk_handle_free(h); });
}

// Quiet, and the handle seams disarmed again when the test ends.
struct Quiet : QuietGuard {
    ~Quiet() {
        npk::handle::testing::fail_nth_alloc(0);
        npk::handle::testing::set_generation_limit(0);
    }
};

}  // namespace

TEST_CASE("handle: the packed layout is generation:32 | arena:16 | slot:16", "[handle]") {
    CHECK(pack(Fields{1, 1, 0}) == 0x0000000100010000);
    CHECK(pack(Fields{0xFFFFFFFF, 0xFFFF, 0xFFFF}) == -1);
    const Fields f = unpack(pack(Fields{0x80000001u, 0x1234, 0xBEEF}));
    CHECK(f.generation == 0x80000001u);
    CHECK(f.arena == 0x1234);
    CHECK(f.slot == 0xBEEF);
}

TEST_CASE("handle: create, alloc, deref, free, destroy", "[handle]") {
    const npk_handle_stats s0 = hstats();
    const int64_t a = npk_handle_arena_create();
    REQUIRE(a >= 1);
    REQUIRE(a <= 0xFFFF);
    CHECK(hstats().live_arenas == s0.live_arenas + 1);

    const npk_handle_t h = npk_handle_alloc(a, 24);
    REQUIRE(h != NPK_HANDLE_NULL);
    CHECK(unpack(h).arena == static_cast<uint32_t>(a));
    CHECK(unpack(h).generation >= 1);

    auto* p = static_cast<unsigned char*>(npk_handle_deref(h));
    REQUIRE(p != nullptr);
    for (int i = 0; i < 24; ++i) CHECK(p[i] == 0);  // zero-filled
    std::memset(p, 0xAB, 24);
    CHECK(npk_handle_deref(h) == p);  // the same block every time
    CHECK(hstats().live_handles == s0.live_handles + 1);
    CHECK(hstats().live_bytes == s0.live_bytes + 24);

    const npk_handle_t h2 = npk_handle_alloc(a, 8);
    REQUIRE(h2 != NPK_HANDLE_NULL);
    CHECK(h2 != h);
    CHECK(npk_handle_deref(h2) != p);
    CHECK(p[23] == 0xAB);  // a second block does not overlap the first

    npk_handle_free(h);
    CHECK(hstats().live_handles == s0.live_handles + 1);
    CHECK(hstats().total_frees == s0.total_frees + 1);
    npk_handle_arena_destroy(a);
    const npk_handle_stats s1 = hstats();
    CHECK(s1.live_arenas == s0.live_arenas);
    CHECK(s1.live_handles == s0.live_handles);
    CHECK(s1.live_bytes == s0.live_bytes);
    CHECK(s1.total_frees == s0.total_frees + 2);  // the destroy freed h2
    CHECK(s1.total_arena_destroys == s0.total_arena_destroys + 1);
}

TEST_CASE("handle: a freed handle is stale: deref gives NULL, a second free frees nothing", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    const npk_handle_t h = npk_handle_alloc(a, 16);
    REQUIRE(h != NPK_HANDLE_NULL);
    npk_handle_free(h);
    expect_dead(h, NPK_ERR_HANDLE_STALE);
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: a reused slot gets a new generation, the old handle stays stale", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    const npk_handle_t old = npk_handle_alloc(a, 16);
    npk_handle_free(old);
    const npk_handle_t fresh = npk_handle_alloc(a, 16);
    REQUIRE(fresh != NPK_HANDLE_NULL);
    CHECK(unpack(fresh).slot == unpack(old).slot);
    CHECK(unpack(fresh).generation == unpack(old).generation + 1);
    CHECK(npk_handle_deref(fresh) != nullptr);
    expect_dead(old, NPK_ERR_HANDLE_STALE);
    CHECK(npk_handle_deref(fresh) != nullptr);  // freeing the old copy spared the new block
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: destroying an arena kills every handle into it", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    const int64_t b = npk_handle_arena_create();
    std::vector<npk_handle_t> hs;
    for (int i = 0; i < 20; ++i) hs.push_back(npk_handle_alloc(a, 8 + i));
    const npk_handle_t other = npk_handle_alloc(b, 8);
    npk_handle_free(hs[3]);
    npk_handle_arena_destroy(a);
    for (npk_handle_t h : hs) expect_dead(h, NPK_ERR_HANDLE_NO_ARENA);
    CHECK(npk_handle_deref(other) != nullptr);  // the other arena is untouched
    expect_rejected(NPK_ERR_HANDLE_NO_ARENA, [&] { npk_handle_arena_destroy(a); });
    expect_rejected(NPK_ERR_HANDLE_NO_ARENA, [&] { CHECK(npk_handle_alloc(a, 8) == NPK_HANDLE_NULL); });
    npk_handle_arena_destroy(b);
}

TEST_CASE("handle: a reused arena id does not revive handles of the destroyed arena", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    const npk_handle_t h = npk_handle_alloc(a, 8);
    npk_handle_free(npk_handle_alloc(a, 8));  // the arena reaches a higher generation
    npk_handle_arena_destroy(a);
    const int64_t again = npk_handle_arena_create();
    REQUIRE(again == a);  // the freed id is handed out first
    const npk_handle_t fresh = npk_handle_alloc(again, 8);
    REQUIRE(fresh != NPK_HANDLE_NULL);
    CHECK(unpack(fresh).slot == unpack(h).slot);
    CHECK(unpack(fresh).generation > unpack(h).generation + 1);
    expect_dead(h, NPK_ERR_HANDLE_NO_ARENA);
    CHECK(npk_handle_deref(fresh) != nullptr);
    npk_handle_arena_destroy(again);
}

TEST_CASE("handle: arena ids that name no arena are rejected", "[handle]") {
    Quiet q;
    for (int64_t id : {int64_t{0}, int64_t{-1}, int64_t{0x10000}, int64_t{INT64_MAX}, int64_t{0xFFFF}}) {
        INFO("arena " << id);
        expect_rejected(NPK_ERR_HANDLE_NO_ARENA, [&] { npk_handle_arena_destroy(id); });
        expect_rejected(NPK_ERR_HANDLE_NO_ARENA, [&] { CHECK(npk_handle_alloc(id, 8) == NPK_HANDLE_NULL); });
    }
}

TEST_CASE("handle: bad sizes are rejected before anything is allocated", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    expect_rejected(NPK_ERR_ZERO_SIZE, [&] { CHECK(npk_handle_alloc(a, 0) == NPK_HANDLE_NULL); });
    expect_rejected(NPK_ERR_INVALID_ARGUMENT, [&] { CHECK(npk_handle_alloc(a, -1) == NPK_HANDLE_NULL); });
    expect_rejected(NPK_ERR_INVALID_ARGUMENT, [&] { CHECK(npk_handle_alloc(a, INT64_MIN) == NPK_HANDLE_NULL); });
    expect_rejected(NPK_ERR_OUT_OF_MEMORY, [&] { CHECK(npk_handle_alloc(a, INT64_MAX) == NPK_HANDLE_NULL); });
    expect_rejected(NPK_ERR_OUT_OF_MEMORY,
                    [&] { CHECK(npk_handle_alloc(a, (int64_t{1} << 40) + 1) == NPK_HANDLE_NULL); });
    // A bad size wins over a bad arena: it is checked first, without the lock.
    expect_rejected(NPK_ERR_ZERO_SIZE, [&] { CHECK(npk_handle_alloc(0, 0) == NPK_HANDLE_NULL); });
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: NULL and values no allocation returned are rejected", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    const npk_handle_t h = npk_handle_alloc(a, 8);
    const Fields f = unpack(h);
    expect_dead(NPK_HANDLE_NULL, NPK_ERR_NULL);
    expect_dead(pack(Fields{0, f.arena, f.slot}), NPK_ERR_HANDLE_MALFORMED);           // generation 0
    expect_dead(pack(Fields{f.generation, 0, f.slot}), NPK_ERR_HANDLE_MALFORMED);      // arena 0
    expect_dead(pack(Fields{f.generation, f.arena, f.slot + 1}), NPK_ERR_HANDLE_MALFORMED);  // no such slot
    expect_dead(pack(Fields{f.generation + 1, f.arena, f.slot}), NPK_ERR_HANDLE_MALFORMED);  // a future generation
    expect_dead(pack(Fields{f.generation, 0xFFFE, 0}), NPK_ERR_HANDLE_NO_ARENA);       // an arena never created
    CHECK(npk_handle_deref(h) != nullptr);  // none of that touched the real block
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: a rejection says what and why, on stderr and in the last message", "[handle]") {
    const int64_t a = npk_handle_arena_create();
    const npk_handle_t h = npk_handle_alloc(a, 8);
    npk_handle_free(h);
    std::string err;
    {
        StderrCapture cap;
        CHECK(npk_handle_deref(h) == nullptr);
        err = cap.text();
    }
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(h));
    CHECK(err == std::string("handle: deref(") + hex + ") rejected: stale handle\n");
    CHECK(std::string(npk_last_error_message()) == std::string("deref(") + hex + ") rejected: stale handle");
    {
        StderrCapture cap;
        CHECK(npk_handle_alloc(a, -5) == NPK_HANDLE_NULL);
        err = cap.text();
    }
    CHECK(err == "handle: alloc rejected: invalid argument (arena " + std::to_string(a) + ", size -5)\n");
    npk_handle_arena_destroy(a);
    {
        StderrCapture cap;
        npk_handle_arena_destroy(a);
        err = cap.text();
    }
    CHECK(err == "handle: arena_destroy rejected: no such arena (arena " + std::to_string(a) + ")\n");
    {
        StderrCapture cap;
        npk_wildx_set_quiet(1);
        npk_handle_free(h);
        npk_wildx_set_quiet(0);
        err = cap.text();
    }
    CHECK(err.empty());  // quiet silences the line, not the status
    CHECK(npk_last_error() == NPK_ERR_HANDLE_NO_ARENA);
}

TEST_CASE("handle: every handle status has its own text", "[handle]") {
    std::set<std::string> texts;
    for (int32_t code : {NPK_ERR_HANDLE_NO_ARENA, NPK_ERR_HANDLE_STALE, NPK_ERR_HANDLE_MALFORMED,
                         NPK_ERR_HANDLE_ARENAS_EXHAUSTED, NPK_ERR_HANDLE_ARENA_FULL}) {
        const std::string t = npk_status_string(code);
        CHECK(t != "unknown error");
        texts.insert(t);
    }
    CHECK(texts.size() == 5);
    CHECK(std::string(npk_status_string(85)) == "unknown error");
}

TEST_CASE("handle: a successful call leaves the last status alone", "[handle]") {
    Quiet q;
    npk_handle_free(NPK_HANDLE_NULL);
    REQUIRE(npk_last_error() == NPK_ERR_NULL);
    const int64_t a = npk_handle_arena_create();
    const npk_handle_t h = npk_handle_alloc(a, 8);
    CHECK(npk_handle_deref(h) != nullptr);
    npk_handle_free(h);
    npk_handle_arena_destroy(a);
    CHECK(npk_last_error() == NPK_ERR_NULL);
}

TEST_CASE("handle: an arena holds 65536 blocks, then is full until one is freed", "[handle]") {
    Quiet q;
    const int64_t a = npk_handle_arena_create();
    std::vector<npk_handle_t> hs;
    hs.reserve(0x10000);
    for (int i = 0; i < 0x10000; ++i) {
        hs.push_back(npk_handle_alloc(a, 1));
        if (hs.back() == NPK_HANDLE_NULL) FAIL("alloc " << i << " failed: " << npk_last_error_message());
    }
    CHECK(unpack(hs.back()).slot == 0xFFFF);
    expect_rejected(NPK_ERR_HANDLE_ARENA_FULL, [&] { CHECK(npk_handle_alloc(a, 1) == NPK_HANDLE_NULL); });
    npk_handle_free(hs[1234]);
    const npk_handle_t again = npk_handle_alloc(a, 1);
    CHECK(unpack(again).slot == 1234);
    npk_handle_arena_destroy(a);
}

TEST_CASE("handle: 65535 arenas at once, then no id is left until one is destroyed", "[handle]") {
    Quiet q;
    const uint64_t live_before = hstats().live_arenas;
    std::vector<int64_t> ids;
    for (;;) {
        const int64_t id = npk_handle_arena_create();
        if (id == 0) break;
        ids.push_back(id);
    }
    CHECK(npk_last_error() == NPK_ERR_HANDLE_ARENAS_EXHAUSTED);
    CHECK(hstats().live_arenas == 0xFFFF);
    CHECK(ids.size() == 0xFFFF - live_before);
    CHECK(std::set<int64_t>(ids.begin(), ids.end()).size() == ids.size());
    expect_rejected(NPK_ERR_HANDLE_ARENAS_EXHAUSTED, [&] { CHECK(npk_handle_arena_create() == 0); });
    npk_handle_arena_destroy(ids[100]);
    CHECK(npk_handle_arena_create() == ids[100]);
    for (int64_t id : ids) npk_handle_arena_destroy(id);
    CHECK(hstats().live_arenas == live_before);
}

TEST_CASE("handle: a slot whose generations run out is retired, never wrapped", "[handle]") {
    Quiet q;
    // Learn where this id's generations stand, then allow it three more.
    const int64_t probe = npk_handle_arena_create();
    const uint32_t g0 = unpack(npk_handle_alloc(probe, 4)).generation;
    npk_handle_arena_destroy(probe);
    npk::handle::testing::set_generation_limit(g0 + 3);
    const int64_t a = npk_handle_arena_create();
    REQUIRE(a == probe);
    std::vector<npk_handle_t> seen;
    for (uint32_t i = 1; i <= 3; ++i) {
        const npk_handle_t h = npk_handle_alloc(a, 4);
        CHECK(unpack(h).slot == 0);
        CHECK(unpack(h).generation == g0 + i);
        seen.push_back(h);
        npk_handle_free(h);
    }
    // Generation g0 + 3 was the last: slot 0 is out of the cycle.
    const npk_handle_t next = npk_handle_alloc(a, 4);
    CHECK(unpack(next).slot == 1);
    for (npk_handle_t h : seen) expect_dead(h, NPK_ERR_HANDLE_STALE);
    npk_handle_arena_destroy(a);
    // The arena reached the limit: its id is retired with it.
    const int64_t b = npk_handle_arena_create();
    CHECK(b != a);
    for (npk_handle_t h : seen) expect_dead(h, NPK_ERR_HANDLE_NO_ARENA);
    npk_handle_arena_destroy(b);
}

TEST_CASE("handle: out of memory at each request leaves the table as it was", "[handle]") {
    Quiet q;
    using npk::handle::testing::fail_nth_alloc;

    fail_nth_alloc(1);  // the arena record
    expect_rejected(NPK_ERR_OUT_OF_MEMORY, [&] { CHECK(npk_handle_arena_create() == 0); });
    const int64_t a = npk_handle_arena_create();
    REQUIRE(a != 0);

    fail_nth_alloc(1);  // the block
    expect_rejected(NPK_ERR_OUT_OF_MEMORY, [&] { CHECK(npk_handle_alloc(a, 8) == NPK_HANDLE_NULL); });
    std::vector<npk_handle_t> hs;
    for (int i = 0; i < 8; ++i) hs.push_back(npk_handle_alloc(a, 8));  // fills the first slot array

    fail_nth_alloc(2);  // the block, then the slot array growing: that one fails
    expect_rejected(NPK_ERR_OUT_OF_MEMORY, [&] { CHECK(npk_handle_alloc(a, 8) == NPK_HANDLE_NULL); });
    for (npk_handle_t h : hs) CHECK(npk_handle_deref(h) != nullptr);  // the old array is intact
    const npk_handle_t ninth = npk_handle_alloc(a, 8);
    CHECK(unpack(ninth).slot == 8);
    CHECK(npk_handle_deref(hs[0]) != nullptr);
    npk_handle_arena_destroy(a);
}
