// xxh3.h — XXH3-64 (xxhash, Debian's libxxhash-dev, used header-only), the
// hash a region's chunks are sealed with (private).
//
// Single pages from npk_wildx_alloc and npk_jit_build keep FNV-1a 64, the
// hash npk/wildx.h promises for them. A region's chunk holds many
// functions and is hashed once at its seal; FNV-1a's one dependent
// multiplication per byte would cost more than everything else of
// installing a small function, XXH3 reads 32 bytes a step.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk {

uint64_t xxh3_64(const void* data, size_t len);

}  // namespace npk
