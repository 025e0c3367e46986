// fnv.h — the FNV-1a 64-bit hash that seal records (private).
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk {

inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// Bit-identical to the byte loop `h ^= b; h *= prime`, but a run of zero
// bytes costs one multiplication (see fnv.cpp). `data` may be unaligned.
uint64_t fnv1a64(const void* data, size_t len);

// prime^k mod 2^64.
uint64_t fnv_prime_pow(uint64_t k);

}  // namespace npk
