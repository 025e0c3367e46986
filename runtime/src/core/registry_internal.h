// registry_internal.h — what the two halves of the wildx registry share
// (private to them): registry.cpp, the state machine and every transition
// (its head draws it and explains the locking), and registry_queries.cpp,
// the queries, verification and stats. The registry itself, a page-table
// slot, the find-and-check steps and how rejections are named.
#pragma once

#include "core/registry.h"

#include "core/page_table.h"
#include "core/sync.h"
#include "core/test_seams.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace npk::wildx::detail {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kRelease = std::memory_order_release;

struct FreedRecord {
    uintptr_t addr = 0;
    uint64_t id = 0;
};

struct Registry {
    Mutex mu;
    CondVar settled;  // an in-flight entry settled
    uint32_t waiters = 0;
    uint32_t in_flight = 0;  // entries SEALING or FREEING, plus verify pins
    bool forking = false;    // a fork is waiting for in_flight to reach 0
    npk_wildx_stats stats{};
    uint64_t next_id = 0;
    // The last kFreedMemory frees, oldest at `freed_head` once full.
    FreedRecord freed[testing::kFreedMemory];
    size_t freed_head = 0;
    size_t freed_count = 0;
};

// Constant-initialized and trivially destructible: usable from static
// constructors, and still there for threads and atexit handlers while the
// process exits.
extern constinit Registry g_registry;

inline Registry& reg() { return g_registry; }

inline uintptr_t addr_of(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// A page-table slot. Valid only while the registry lock is held.
struct Slot {
    Leaf* leaf = nullptr;
    unsigned idx = 0;

    explicit operator bool() const { return leaf != nullptr; }
    uint64_t word() const { return leaf->word[idx].load(kRelaxed); }
    uint64_t kind() const { return word() & kKindMask; }
    uintptr_t owner() const { return word() & ~kKindMask; }
    Meta& meta() const { return leaf->meta[idx]; }
    void set(uintptr_t owner, uint64_t kind) const { leaf->word[idx].store(owner | kind, kRelease); }
};

// The slot of `a` if its leaf exists (lock held).
Slot slot_at(uintptr_t a);

// What `a` (not null) is to an operation that needs the start of a page:
// a live page (error 0, kind WRITABLE / SEALING / EXECUTABLE), or the
// error to report.
struct Found {
    Slot slot;
    uint64_t kind = kEmpty;
    int32_t error = 0;
};

Found find_start(uintptr_t a);

// An operation as its rejections name it.
struct Op {
    int32_t facility;
    const char* name;
};
constexpr Op kAlloc{NPK_FACILITY_WILDX, "alloc"};
constexpr Op kSeal{NPK_FACILITY_WILDX, "seal"};
constexpr Op kFree{NPK_FACILITY_WILDX, "free"};
constexpr Op kCodeHash{NPK_FACILITY_WILDX, "code_hash"};
constexpr Op kVerify{NPK_FACILITY_WILDX, "verify"};
constexpr Op kInstall{NPK_FACILITY_JIT, "install"};
constexpr Op kCall{NPK_FACILITY_JIT, "call"};

// A rejection about the page at `a`.
int32_t reject(Op op, uintptr_t a, int32_t code, const char* detail = nullptr, int os_errno = 0);

void wake_waiters(Registry& r);

// The one find-and-check step of every operation that needs the start of
// a page in one state (registry.cpp says more).
bool take_page(Registry& r, Lock& lk, Op op, uintptr_t a, uint64_t want, int32_t wrong_state, Slot* out);

// The hash of `usable` bytes at `page`, as seal records it.
uint64_t hash_of(const void* page, size_t usable, HashKind kind);

}  // namespace npk::wildx::detail
