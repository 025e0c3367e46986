// The FNV-1a 64 that seal records: bit-identical to the byte loop on known
// vectors and on many random pages, sparse and dense, of all sizes and
// alignments.
#include "support.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace npk::test;

TEST_CASE("fnv1a64 matches published FNV-1a 64 test vectors", "[fnv]") {
    const std::pair<std::string, uint64_t> vectors[] = {
        {"", 0xcbf29ce484222325ULL},
        {"a", 0xaf63dc4c8601ec8cULL},
        {"b", 0xaf63df4c8601f1a5ULL},
        {"foobar", 0x85944171f73967e8ULL},
        {std::string("\0", 1), 0xaf63bd4c8601b7dfULL},
        {std::string("a\0", 2), 0x089be207b544f1e4ULL},
        {std::string("foobar\0", 7), 0x34531ca7168b8f38ULL},
    };
    for (const auto& [text, hash] : vectors) {
        CAPTURE(text, text.size());
        CHECK(fnv1a64_naive(text.data(), text.size()) == hash);
        CHECK(npk_wildx_fnv1a64(text.data(), text.size()) == hash);
    }
}

TEST_CASE("fnv1a64 of NULL hashes as empty", "[fnv]") {
    CHECK(npk_wildx_fnv1a64(nullptr, 0) == 0xcbf29ce484222325ULL);
    CHECK(npk_wildx_fnv1a64(nullptr, 100) == 0xcbf29ce484222325ULL);
}

TEST_CASE("fnv1a64 of long zero runs equals the byte loop", "[fnv]") {
    std::vector<unsigned char> buf(1 << 20, 0);
    for (size_t len : {size_t{1}, size_t{7}, size_t{8}, size_t{31}, size_t{32}, size_t{33}, size_t{4096},
                       size_t{4097}, size_t{65536 + 5}, buf.size()}) {
        CAPTURE(len);
        CHECK(npk_wildx_fnv1a64(buf.data(), len) == fnv1a64_naive(buf.data(), len));
    }
    buf[buf.size() - 1] = 1;
    buf[12345] = 0xFF;
    CHECK(npk_wildx_fnv1a64(buf.data(), buf.size()) == fnv1a64_naive(buf.data(), buf.size()));
}

TEST_CASE("fnv1a64 equals the byte loop on random pages, sparse and dense, any size and offset", "[fnv]") {
    std::mt19937_64 rng(20240611);
    std::vector<unsigned char> buf(3 * 4096 + 64);
    int checked = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        // Density from "a few code bytes in a zero page" to "every byte set".
        const int mode = iter % 5;
        const double density = mode == 0 ? 0.001 : mode == 1 ? 0.01 : mode == 2 ? 0.1 : mode == 3 ? 0.5 : 1.0;
        std::bernoulli_distribution set(density);
        std::uniform_int_distribution<int> byte(1, 255);
        for (auto& b : buf) b = set(rng) ? static_cast<unsigned char>(byte(rng)) : 0;
        // Zero runs that straddle word and block boundaries.
        if (iter % 7 == 0) std::memset(buf.data() + rng() % 4096, 0, rng() % 300);

        const size_t offset = rng() % 17;
        const size_t len = iter < 100 ? static_cast<size_t>(iter) : rng() % (buf.size() - offset);
        const unsigned char* p = buf.data() + offset;
        const uint64_t want = fnv1a64_naive(p, len);
        const uint64_t got = npk_wildx_fnv1a64(p, len);
        if (got != want) {
            FAIL("mismatch at iter " << iter << " offset " << offset << " len " << len);
        }
        ++checked;
    }
    CHECK(checked == 3000);
}

TEST_CASE("the hash seal records equals the byte loop over the whole page", "[fnv]") {
    std::mt19937_64 rng(7);
    const size_t pg = page_size();
    for (int iter = 0; iter < 50; ++iter) {
        const size_t size = 1 + rng() % (3 * pg);
        unsigned char* p = static_cast<unsigned char*>(npk_wildx_alloc(size));
        REQUIRE(p != nullptr);
        const size_t usable = npk_wildx_size(p);
        const size_t n = rng() % 64;
        for (size_t i = 0; i < n; ++i) p[rng() % usable] = static_cast<unsigned char>(rng());
        const uint64_t want = fnv1a64_naive(p, usable);
        REQUIRE(npk_wildx_seal(p) == 0);
        uint64_t h = 0;
        REQUIRE(npk_wildx_code_hash(p, &h) == 0);
        CHECK(h == want);
        REQUIRE(npk_wildx_free(p) == 0);
    }
}
