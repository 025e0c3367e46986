// wild_table.h — the live blocks of the wild heap (private to upstream/).
//
// npk_alloc and its relatives hand out blocks straight from the C
// allocator, with nothing in front of them, so that free() is valid on
// every one (upstream's test frees a 64-byte-aligned buffer with free()).
// What upstream keeps in a hidden header, the requested size and
// alignment, lives here instead: one table keyed by address, one mutex.
#pragma once
#include <cstddef>
#include <cstdint>

namespace npk::wild {

struct Counters {
    size_t live_bytes;
    size_t live_blocks;
    size_t frees;
    size_t peak_bytes;
};

// Records a new block. A record left at `p` by a block the program gave
// back with free() is replaced (and leaves the counters). Returns false,
// recording nothing, if the table cannot grow.
bool remember(void* p, size_t size, size_t align);

// Removes the record of a live block and tells its size and alignment.
// Returns false if `p` is not a live block of the heap.
bool forget(void* p, size_t* size, size_t* align);

// The record of a live block, without removing it.
bool find(const void* p, size_t* size, size_t* align);

Counters counters();

}  // namespace npk::wild
