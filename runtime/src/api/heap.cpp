// heap.cpp — the plain `wild` heap: what Nitpick's alloc / free lower to.
// Ordinary malloc memory (read+write, never executable); it has nothing to
// do with the wildx registry, its quota or its counters.
#include <npk/wildx.h>

#include <cstdint>
#include <cstdlib>

extern "C" {

void* npk_alloc(size_t size) {
    // No object may be larger than PTRDIFF_MAX; refuse before calloc (and
    // before a sanitizer's allocator) has to.
    if (size == 0 || size > static_cast<size_t>(PTRDIFF_MAX)) return nullptr;
    return std::calloc(1, size);
}

void npk_free(void* block) { std::free(block); }

}  // extern "C"
