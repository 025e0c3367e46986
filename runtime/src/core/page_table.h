// page_table.h — the registry's lock-free index of pages (private).
//
// A three-level radix table over the 48-bit address space, indexed by
// 4 KiB granule: root (static) → Mid → Leaf → one atomic word per granule.
// A word holds the page address of its owner in the high bits and a Kind in
// the low 12 (page addresses are at least 4 KiB-aligned). Lookups are three
// dependent loads, whatever the number of live pages: no hashing, no
// probing, no rehash. Mids and Leaves are created under the registry lock
// and never freed (they are reachable from the root until exit), so a
// lock-free reader can never touch freed table memory; they cost 0.2 % of
// the address range wildx pages have ever occupied.
//
// Writers hold the registry lock and store words with release; the one
// lock-free reader is the checked call (and npk_wildx_state), which loads
// them with acquire: seeing EXECUTABLE implies seeing the mprotect to RX
// that preceded it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace npk::wildx {

// The state of one granule's word. A page's start word holds the page's
// own address and one of WRITABLE..FREED; the other pages of a multi-page
// allocation hold their owner's start address and INTERIOR, its guard pages
// GUARD, so an interior pointer is found in O(1) and a freed address that a
// later allocation covers is no longer reported as freed.
enum Kind : uint64_t {
    kEmpty = 0,       // nothing known
    kWritable = 1,    // mapped RW
    kSealing = 2,     // seal in flight (hash, flush, protect outside the lock); still RW to callers
    kExecutable = 3,  // mapped RX
    kFreeing = 4,     // free in flight (unmap outside the lock); gone to callers
    kFreed = 5,       // unmapped, remembered (the freed ring) to tell "freed" from "foreign"
    kInterior = 6,    // a later page of a live allocation (owner = its start)
    kGuard = 7,       // a guard page of a live allocation (owner = its start)
};

inline constexpr uint64_t kKindMask = 0xFFF;
inline constexpr unsigned kGranuleShift = 12;
inline constexpr unsigned kAddrBits = 48;
inline constexpr unsigned kLeafBits = 9;   // a Leaf covers 2 MiB
inline constexpr unsigned kMidBits = 13;   // a Mid covers 16 GiB
inline constexpr unsigned kRootBits = kAddrBits - kGranuleShift - kLeafBits - kMidBits;
inline constexpr size_t kLeafSize = size_t{1} << kLeafBits;
inline constexpr size_t kMidSize = size_t{1} << kMidBits;
inline constexpr size_t kRootSize = size_t{1} << kRootBits;

// What the registry records about a page, at its start word's index.
// Only touched with the registry lock held.
struct Meta {
    size_t requested = 0;  // the size alloc was asked for
    size_t usable = 0;     // page-rounded: what is mapped RW / RX
    uint64_t hash = 0;     // of the usable bytes, taken at seal: FNV-1a 64, or XXH3-64 (hash_kind)
    uint64_t id = 0;       // allocation number, 1-based, never reused
    uint32_t pins = 0;     // verify calls hashing the page outside the lock
    bool guard = false;    // a guard page sits on either side
    uint8_t hash_kind = 0; // npk::wildx::HashKind the page was sealed with
};

struct Leaf {
    std::atomic<uint64_t> word[kLeafSize];
    Meta meta[kLeafSize];
};

struct Mid {
    std::atomic<Leaf*> leaf[kMidSize];
};

extern std::atomic<Mid*> g_page_table[kRootSize];

inline size_t root_index(uintptr_t a) { return a >> (kGranuleShift + kLeafBits + kMidBits); }
inline size_t mid_index(uintptr_t a) { return (a >> (kGranuleShift + kLeafBits)) & (kMidSize - 1); }
inline unsigned leaf_index(uintptr_t a) {
    return static_cast<unsigned>((a >> kGranuleShift) & (kLeafSize - 1));
}

// The word for address `a` (kEmpty if nothing was ever recorded there).
inline uint64_t load_word(uintptr_t a) noexcept {
    if ((a >> kAddrBits) != 0) return kEmpty;
    const Mid* m = g_page_table[root_index(a)].load(std::memory_order_acquire);
    if (m == nullptr) return kEmpty;
    const Leaf* l = m->leaf[mid_index(a)].load(std::memory_order_acquire);
    if (l == nullptr) return kEmpty;
    return l->word[leaf_index(a)].load(std::memory_order_acquire);
}

// The checked call's test, lock-free: is `page` the start of an
// EXECUTABLE page right now? (An unaligned pointer never is: its low bits
// would otherwise alias the kind bits.)
inline bool is_executable(const void* page) noexcept {
    const uintptr_t a = reinterpret_cast<uintptr_t>(page);
    return (a & kKindMask) == 0 && load_word(a) == (a | kExecutable);
}

}  // namespace npk::wildx
