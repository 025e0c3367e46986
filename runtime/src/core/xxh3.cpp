// xxh3.cpp — XXH3-64 from xxhash.h, inlined here (no library to link,
// the same on both hosts).
#include "core/xxh3.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace npk {

uint64_t xxh3_64(const void* data, size_t len) { return XXH3_64bits(data, len); }

}  // namespace npk
