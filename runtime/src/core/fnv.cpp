// fnv.cpp — FNV-1a 64 over mostly-zero pages, fast and exact.
//
// FNV-1a does `h ^= byte; h *= prime` per byte. For a zero byte the xor
// is a no-op, so a run of k zero bytes multiplies h by prime^k (mod 2^64).
// A sealed JIT page is typically a few code bytes followed by thousands of
// zeros, so the loop finds zero runs 32 bytes (then 8) at a time, counts
// them, and applies prime^k in one go before the next non-zero byte. The
// result is the byte loop's, bit for bit; only the number of dependent
// multiplications changes (the byte loop is bound by their latency).
#include "core/fnv.h"

#include <cstring>

namespace npk {
namespace {

// prime^(j * 64^d) for the base-64 digits of an exponent: any k < 2^66
// costs at most one multiplication per non-zero digit (two for k < 4096).
constexpr int kDigits = 11;
struct PowTable {
    uint64_t p[kDigits][64];
};

constexpr PowTable make_pow_table() {
    PowTable t{};
    uint64_t base = kFnvPrime;  // prime^(64^d)
    for (int d = 0; d < kDigits; ++d) {
        t.p[d][0] = 1;
        for (int j = 1; j < 64; ++j) t.p[d][j] = t.p[d][j - 1] * base;
        base = t.p[d][63] * base;
    }
    return t;
}

constexpr PowTable kPow = make_pow_table();
static_assert(kPow.p[0][1] == kFnvPrime);
static_assert(kPow.p[0][2] == kFnvPrime * kFnvPrime);
static_assert(kPow.p[1][1] == kPow.p[0][63] * kFnvPrime);

inline uint64_t load64(const unsigned char* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

}  // namespace

uint64_t fnv_prime_pow(uint64_t k) {
    uint64_t r = 1;
    for (int d = 0; k != 0; ++d, k >>= 6) {
        if (k & 63) r *= kPow.p[d][k & 63];
    }
    return r;
}

uint64_t fnv1a64(const void* data, size_t len) {
    uint64_t h = kFnvOffsetBasis;
    if (data == nullptr) return h;  // hashes as empty, whatever len says
    const unsigned char* p = static_cast<const unsigned char*>(data);
    const unsigned char* const end = p + len;
    uint64_t zeros = 0;  // pending zero bytes, applied before the next non-zero byte

    // One byte the slow way; zero bytes only extend the pending run.
    auto byte = [&](unsigned char b) {
        if (b == 0) {
            ++zeros;
            return;
        }
        if (zeros != 0) {
            h *= fnv_prime_pow(zeros);
            zeros = 0;
        }
        h ^= b;
        h *= kFnvPrime;
    };

    while (end - p >= 32) {
        if ((load64(p) | load64(p + 8) | load64(p + 16) | load64(p + 24)) == 0) {
            zeros += 32;
            p += 32;
            continue;
        }
        for (const unsigned char* w = p; w < p + 32; w += 8) {
            if (load64(w) == 0) {
                zeros += 8;
                continue;
            }
            for (int i = 0; i < 8; ++i) byte(w[i]);
        }
        p += 32;
    }
    while (p < end) byte(*p++);
    if (zeros != 0) h *= fnv_prime_pow(zeros);
    return h;
}

}  // namespace npk
