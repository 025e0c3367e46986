// The gate's shadow identity of memory (issue 19, run/gate_shadow.cpp): a
// pointer stored into a block the gate knows keeps its identity when read
// back, until the word is overwritten, partly overwritten, handed to C or
// its block released. The regression programs
// tests/programs/gate_stale_pointer_in_heap_{field,word}.npk cover it end
// to end.
#include <catch2/catch.hpp>

#include <string>

#include "interp_test_util.h"
#include "run/gate.h"

using namespace npk;
using namespace npk::test;

namespace {

const char* const kFail = "func:failsafe = int32(tbb32:err) {\n    exit @cast<int32>(err);\n};\n";

// A gate over made-up addresses: the shadow never touches the memory.
struct ShadowGate {
    SourceManager sources;
    Diagnostics diag{sources};
    RuntimeGate gate{diag};
    uint64_t alloc(uint64_t addr, uint64_t size) {
        gate.before();
        return gate.after(RuntimeRole::HeapAlloc, "alloc", {{size, 0}}, addr, Loc{});
    }
    void free(uint64_t addr, uint64_t id) {
        gate.before();
        gate.after(RuntimeRole::HeapFree, "free", {{addr, id}}, 0, Loc{});
    }
};

constexpr uint64_t kBlock = 0x10000;
constexpr uint64_t kPtr = 0x7f0000001000;  // the word stored
constexpr uint64_t kTag = 0x0100000000000042;  // its identity

}  // namespace

TEST_CASE("gate shadow: a tagged word read back unchanged from where it was stored gets its identity", "[gate]") {
    ShadowGate g;
    const uint64_t b = g.alloc(kBlock, 64);
    g.gate.stored(b, kBlock + 8, 8, kPtr, kTag);
    CHECK(g.gate.shadow_count() == 1);
    CHECK(g.gate.loaded(kBlock + 8, kPtr) == kTag);
    CHECK(g.gate.loaded(kBlock + 8, kPtr + 1) == 0);  // the memory no longer holds it (C wrote it)
    CHECK(g.gate.loaded(kBlock + 16, kPtr) == 0);     // the same value elsewhere: no identity
    // Storing it again, or another tagged word, replaces the entry.
    g.gate.stored(b, kBlock + 8, 8, kPtr + 64, kTag + 1);
    CHECK(g.gate.shadow_count() == 1);
    CHECK(g.gate.loaded(kBlock + 8, kPtr + 64) == kTag + 1);
}

TEST_CASE("gate shadow: nothing is remembered for untagged words, narrow stores, foreign or dead memory", "[gate]") {
    ShadowGate g;
    const uint64_t b = g.alloc(kBlock, 64);
    g.gate.stored(b, kBlock, 8, kPtr, 0);    // a plain integer: the program that stores no pointer
    g.gate.stored(b, kBlock, 4, kPtr, kTag); // a 4-byte store cannot hold a pointer
    g.gate.stored(0, 0x5000, 8, kPtr, kTag); // memory the gate does not know
    CHECK(g.gate.shadow_count() == 0);
    CHECK_FALSE(g.gate.has_shadows());
    g.free(kBlock, b);
    g.gate.stored(b, kBlock, 8, kPtr, kTag); // into a released block (the gate refuses that store first)
    CHECK(g.gate.shadow_count() == 0);
}

TEST_CASE("gate shadow: an overwrite forgets the identity: untagged, partial, unaligned", "[gate]") {
    ShadowGate g;
    const uint64_t b = g.alloc(kBlock, 64);
    auto fresh = [&] {
        g.gate.stored(b, kBlock + 16, 8, kPtr, kTag);
        REQUIRE(g.gate.loaded(kBlock + 16, kPtr) == kTag);
    };
    fresh();
    g.gate.stored(b, kBlock + 16, 8, 5, 0);  // a non-pointer over it
    CHECK(g.gate.loaded(kBlock + 16, kPtr) == 0);
    CHECK(g.gate.shadow_count() == 0);

    fresh();
    g.gate.stored(b, kBlock + 20, 4, 0, 0);  // its upper half
    CHECK(g.gate.shadow_count() == 0);

    fresh();
    g.gate.stored(b, kBlock + 23, 1, 0, 0);  // its last byte
    CHECK(g.gate.shadow_count() == 0);

    fresh();
    g.gate.stored(b, kBlock + 12, 8, 0, 0);  // unaligned, across its first half
    CHECK(g.gate.shadow_count() == 0);

    fresh();
    g.gate.stored(b, kBlock + 8, 8, 0, 0);   // the word before and the word after: it stays
    g.gate.stored(b, kBlock + 24, 8, 0, 0);
    g.gate.stored(b, kBlock + 15, 1, 0, 0);
    CHECK(g.gate.loaded(kBlock + 16, kPtr) == kTag);
}

TEST_CASE("gate shadow: an unaligned tagged word is kept and forgotten by any overlapping store", "[gate]") {
    ShadowGate g;
    const uint64_t b = g.alloc(kBlock, 64);
    g.gate.stored(b, kBlock + 3, 8, kPtr, kTag);
    CHECK(g.gate.loaded(kBlock + 3, kPtr) == kTag);
    CHECK(g.gate.loaded(kBlock, kPtr) == 0);
    g.gate.stored(b, kBlock + 8, 8, 0, 0);  // aligned, over its last three bytes
    CHECK(g.gate.shadow_count() == 0);
    g.gate.stored(b, kBlock + 3, 8, kPtr, kTag);
    g.gate.stored(b, kBlock + 11, 8, 0, 0);  // just after it: it stays
    CHECK(g.gate.loaded(kBlock + 3, kPtr) == kTag);
    g.gate.stored(b, kBlock, 4, 0, 0);  // over its first byte
    CHECK(g.gate.shadow_count() == 0);
}

TEST_CASE("gate shadow: a released block forgets its words, and a new block at its address has none", "[gate]") {
    ShadowGate g;
    const uint64_t big = g.alloc(kBlock, 4096);  // more bytes than entries: forgotten by a scan of the map
    const uint64_t small = g.alloc(kBlock + 8192, 16);  // fewer bytes than entries: by address
    const uint64_t other = g.alloc(kBlock + 16384, 64);
    for (uint64_t i = 0; i < 4; ++i) g.gate.stored(big, kBlock + 8 * i, 8, kPtr, kTag);
    g.gate.stored(small, kBlock + 8192, 8, kPtr, kTag);
    g.gate.stored(small, kBlock + 8200, 8, kPtr, kTag);
    for (uint64_t i = 0; i < 8; ++i) g.gate.stored(other, kBlock + 16384 + 8 * i, 8, kPtr, kTag);
    REQUIRE(g.gate.shadow_count() == 14);
    g.free(kBlock, big);
    CHECK(g.gate.shadow_count() == 10);
    g.free(kBlock + 8192, small);
    CHECK(g.gate.shadow_count() == 8);
    const uint64_t again = g.alloc(kBlock, 4096);
    CHECK(again != big);
    CHECK(g.gate.loaded(kBlock, kPtr) == 0);
    CHECK(g.gate.loaded(kBlock + 16384, kPtr) == kTag);  // the other block keeps its words
}

TEST_CASE("gate shadow: a block handed to C forgets its words (memcpy, memset: by address again)", "[gate]") {
    ShadowGate g;
    const uint64_t a = g.alloc(kBlock, 64);
    const uint64_t b = g.alloc(kBlock + 4096, 64);
    g.gate.stored(a, kBlock, 8, kPtr, kTag);
    g.gate.stored(b, kBlock + 4096, 8, kPtr, kTag);
    g.gate.passed_to_c({{kBlock + 4096 + 32, 0}, {7, 0}, {0, 0}});  // an interior pointer into b, integers
    CHECK(g.gate.loaded(kBlock + 4096, kPtr) == 0);
    CHECK(g.gate.loaded(kBlock, kPtr) == kTag);
    g.gate.passed_to_c({{kBlock, a}});
    CHECK(g.gate.shadow_count() == 0);
}

TEST_CASE("gate shadow: pointers stored in memory and read back work while live, are refused once stale", "[gate]") {
    auto main_body = [](const std::string& body) {
        return "extern func:npk_alloc = wild ?*(uint64:size);\n"
               "extern func:memset = ?*(?*:s, int32:c, uint64:n);\n"
               "struct:Box = {\n    int8->:ptr;\n    int32:n;\n};\n"
               "func:main = int32() {\n" +
               body + "};\n" + kFail;
    };
    // A live pointer through a table word and a heap struct field: usable,
    // and released through the read-back value exactly once.
    auto live = run_text(main_body("    int64->:t = npk_alloc(16u64);\n    int8->:p = alloc(32);\n"
                                   "    t[1] = @cast<int64>(p);\n    wild Box:b = Box{ptr: p, n: 1i32};\n"
                                   "    int8->:r = @cast<int8->>(t[1]);\n    r[31] = 5i8;\n"
                                   "    if (b.ptr[31] != 5i8) {\n        exit 2;\n    }\n"
                                   "    free(b.ptr);\n    free(t);\n    exit 0;\n"));
    INFO(live.err);
    CHECK(live.status == 0);

    // A stale pointer read back from a table word: a second release is
    // refused with the first release's position.
    auto stale = run_text(main_body("    int64->:t = npk_alloc(16u64);\n    int8->:p = alloc(32);\n"
                                    "    t[0] = @cast<int64>(p);\n    free(p);\n"
                                    "    free(@cast<int8->>(t[0]));\n    exit 0;\n"));
    INFO(stale.err);
    CHECK(stale.status == 105);
    CHECK(stale.err.find("main.npk:12:5: runtime error: 'free' refused: this heap block was already released") !=
          std::string::npos);
    CHECK(stale.err.find("main.npk:11:5: note: released here") != std::string::npos);

    // A field assigned after the declaration is shadowed too; the heap
    // struct's field overwritten with a live pointer is that pointer.
    auto field = run_text(main_body("    int8->:p = alloc(32);\n    int8->:q = alloc(32);\n"
                                    "    wild Box:b = Box{n: 1i32};\n    b.ptr = p;\n    free(p);\n"
                                    "    b.ptr = q;\n    b.ptr[0] = 1i8;\n    free(b.ptr);\n"
                                    "    b.ptr = p;\n    b.ptr[0] = 1i8;\n    exit 0;\n"));
    INFO(field.err);
    CHECK(field.status == 109);
    CHECK(field.err.find("main.npk:17:5: runtime error: Use after release: store to element 0") != std::string::npos);
    CHECK(field.err.find("main.npk:12:5: note: released here") != std::string::npos);

    // memset over the table: the word is gone (0), nothing left to trust.
    auto c = run_text(main_body("    int64->:t = npk_alloc(16u64);\n    int8->:p = alloc(32);\n"
                                "    t[0] = @cast<int64>(p);\n    drop memset(t, 0i32, 16u64);\n"
                                "    if (t[0] != 0i64) {\n        exit 2;\n    }\n    free(p);\n    free(t);\n"
                                "    exit 0;\n"));
    INFO(c.err);
    CHECK(c.status == 0);
}
