// registry.cpp — the wildx state machine.
//
//   (unmapped) ──alloc──▶ WRITABLE ──seal──▶ SEALING ──▶ EXECUTABLE
//                             │  ▲              │              │
//                             │  └──(mprotect ──┘              │
//                             │      refused)                  │
//                             └────────free──▶ FREEING ◀──free─┘
//                                                 │
//                                                 ▼
//                                       FREED (remembered) ──▶ forgotten
//
// Each transition happens in exactly one function below: alloc() creates
// WRITABLE, seal() owns WRITABLE → SEALING → EXECUTABLE (or back to
// WRITABLE when the OS refuses), free_page() owns WRITABLE/EXECUTABLE →
// FREEING → FREED, remember_freed() forgets old FREED records.
//
// Locking. One mutex guards every word and Meta of the page table, the
// freed ring and the stats. No system call runs under it: seal and free
// mark the entry SEALING / FREEING under the lock, drop it for the
// hash + mprotect or the munmap, and take it again to finish. Whoever meets
// an entry in flight either waits for it to settle (a free or an install
// meeting SEALING, a free meeting a verify's pin, an alloc whose fresh
// mapping reuses the address of a page still FREEING) or treats it as
// already gone (anything meeting FREEING). So a concurrent seal and free of
// one page are ordered, never interleaved: mprotect and munmap never race
// on a range. No code keeps a Slot (a pointer into the table) across an
// unlock; every phase looks the address up again.
//
// Nothing waits on the kernel's choice of address. A fresh mapping may
// only land on addresses the registry calls live if the program unmapped
// a wildx page behind the registry's back (munmap on it): alloc() then
// reports that page once and forgets it (forget_unmapped) instead of
// waiting for a free that will never come.
//
// fork(). A child has only the forking thread: an entry another thread had
// in flight would stay SEALING / FREEING / pinned there forever, and the
// registry lock could be held by nobody. So the fork handlers (bottom of
// this file) take the lock, stop new operations from going in flight, wait
// until none is, and keep the lock across the fork; the child starts with
// a settled table and a fresh lock.
//
// Queries, verification and stats (which make no transition) are in
// registry_queries.cpp; what the two files share is in registry_internal.h.
#include "core/registry.h"
#include "core/registry_internal.h"

#include "arch/arch.h"

#include "core/config.h"
#include "core/errors.h"
#include "core/fnv.h"
#include "core/xxh3.h"
#include "os/os.h"
#include "core/page_table.h"
#include "core/sync.h"
#include "core/test_seams.h"

#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace npk::wildx {

// Constant-initialized: usable before any static constructor has run.
std::atomic<Mid*> g_page_table[kRootSize]{};

using namespace detail;

// The registry's internals (registry_internal.h declares what
// registry_queries.cpp uses too).
namespace detail {

// Constant-initialized and trivially destructible: usable from static
// constructors, and still there for threads and atexit handlers while the
// process exits.
constinit Registry g_registry;

// Live bytes plus bytes being mapped right now: what the quota bounds.
// Reserved before mmap (so concurrent allocations can never overshoot)
// and given back on failure or at free.
std::atomic<size_t> g_committed{0};

bool reserve_quota(size_t n) {
    const size_t quota = config::get(config::quota);
    size_t cur = g_committed.load(kRelaxed);
    do {
        if (n > quota || cur > quota - n) return false;
    } while (!g_committed.compare_exchange_weak(cur, cur + n, kRelaxed));
    return true;
}

void release_quota(size_t n) { g_committed.fetch_sub(n, kRelaxed); }

// Told of every allocation about to be unmapped (set_free_listener).
constinit std::atomic<FreeListener> g_free_listener{nullptr};

// The slot of `a` if its leaf exists (lock held).
Slot slot_at(uintptr_t a) {
    if ((a >> kAddrBits) != 0) return {};
    Mid* m = g_page_table[root_index(a)].load(kRelaxed);
    if (m == nullptr) return {};
    Leaf* l = m->leaf[mid_index(a)].load(kRelaxed);
    if (l == nullptr) return {};
    return {l, leaf_index(a)};
}

// A zeroed table node from calloc (no C++ runtime needed); never freed.
template <class T>
T* create() {
    void* mem = std::calloc(1, sizeof(T));
    return mem != nullptr ? new (mem) T() : nullptr;
}

// Makes sure every page in [lo, hi) has a slot (lock held). False if the
// memory for the table is not there; nothing was recorded then.
bool make_slots(uintptr_t lo, uintptr_t hi, size_t page) {
    for (uintptr_t q = lo; q < hi; q += page) {
        std::atomic<Mid*>& mp = g_page_table[root_index(q)];
        Mid* m = mp.load(kRelaxed);
        if (m == nullptr) {
            m = create<Mid>();
            if (m == nullptr) return false;
            mp.store(m, kRelease);
        }
        std::atomic<Leaf*>& lp = m->leaf[mid_index(q)];
        if (lp.load(kRelaxed) == nullptr) {
            Leaf* l = create<Leaf>();
            if (l == nullptr) return false;
            lp.store(l, kRelease);
        }
    }
    return true;
}

bool is_live(uint64_t kind) { return kind == kWritable || kind == kSealing || kind == kExecutable; }

// Is `owner` the start of a live page? (lock held)
bool owner_live(uintptr_t owner) {
    const Slot s = slot_at(owner);
    return s && s.owner() == owner && is_live(s.kind());
}

// Does the page-aligned `p` lie within the usable bytes of a live page?
bool inside_live(uintptr_t p) {
    const Slot s = slot_at(p);
    if (!s) return false;
    if (is_live(s.kind())) return true;
    return s.kind() == kInterior && owner_live(s.owner());
}

Found find_start(uintptr_t a) {
    const size_t page = os::page_size();
    if ((a & (page - 1)) != 0) {
        return {{}, kEmpty, inside_live(a & ~(page - 1)) ? NPK_WILDX_ERR_INTERIOR : NPK_WILDX_ERR_NOT_WILDX};
    }
    const Slot s = slot_at(a);
    const uint64_t kind = s ? s.kind() : kEmpty;
    switch (kind) {
        case kWritable:
        case kSealing:
        case kExecutable:
            assert(s.owner() == a);
            return {s, kind, 0};
        case kFreeing:
        case kFreed:
            return {s, kind, NPK_WILDX_ERR_FREED};
        case kInterior:
            return {s, kind, owner_live(s.owner()) ? NPK_WILDX_ERR_INTERIOR : NPK_WILDX_ERR_NOT_WILDX};
        default:  // empty, or a guard page
            return {s, kind, NPK_WILDX_ERR_NOT_WILDX};
    }
}

// A rejection about the page at `a`.
int32_t reject(Op op, uintptr_t a, int32_t code, const char* detail, int os_errno) {
    return fail(op.facility, op.name, Subject::address(a), code, detail, os_errno);
}

void wait_settled(Registry& r, Lock& lk) {
    ++r.waiters;
    r.settled.wait(lk);
    --r.waiters;
}

void wake_waiters(Registry& r) {
    if (r.waiters != 0) r.settled.notify_all();
}

// find_start, after waiting out a seal in flight on `a` (and, if asked,
// verifies that pinned it) and a fork in progress: the caller then sees a
// settled state and may put the entry in flight.
Found find_settled(Registry& r, Lock& lk, uintptr_t a, bool wait_for_pins) {
    for (;;) {
        const Found f = find_start(a);
        const bool busy = r.forking || f.kind == kSealing ||
                          (wait_for_pins && f.kind == kExecutable && f.slot.meta().pins != 0);
        if (!busy) return f;
        wait_settled(r, lk);
    }
}

// The one find-and-check step of every operation that needs the start of
// a page in one state (lock held): `a` must be a live page in state `want`
// (WRITABLE or EXECUTABLE), after waiting out a seal in flight for an
// operation that needs WRITABLE. A live page in the other state is
// `wrong_state`. On failure, drops the lock, reports the rejection as `op`
// and returns false.
bool take_page(Registry& r, Lock& lk, Op op, uintptr_t a, uint64_t want, int32_t wrong_state, Slot* out) {
    int32_t err = NPK_ERR_NULL;
    if (a != 0) {
        while (r.forking) wait_settled(r, lk);  // verify pins what it finds
        const Found f = want == kWritable ? find_settled(r, lk, a, /*wait_for_pins=*/false) : find_start(a);
        err = f.error != 0 ? f.error : f.kind != want ? wrong_state : 0;
        *out = f.slot;
    }
    if (err == 0) return true;
    lk.unlock();
    reject(op, a, err);
    return false;
}

// The page at `owner` (live and settled, or FREEING while the free
// listener hears of it) was unmapped behind the registry's
// back, in whole or in part: the kernel has just handed out some of its
// addresses (start, interior or guard) again. Say so once, and drop all of
// it as if freed, without an unmap (lock held): a later seal, free or call
// through it would otherwise protect, unmap or run the new page. Whatever
// is left of its mapping is leaked.
void forget_unmapped(Registry& r, uintptr_t owner, size_t page) {
    const Slot s = slot_at(owner);
    const Meta m = s.meta();
    const uintptr_t lo = m.guard ? owner - page : owner;
    const uintptr_t hi = owner + m.usable + (m.guard ? page : 0);
    for (uintptr_t q = lo; q < hi; q += page) {
        const Slot w = slot_at(q);
        if (w && w.owner() == owner) w.set(0, kEmpty);
    }
    --r.stats.live_pages;
    r.stats.live_bytes -= m.usable;
    release_quota(m.usable);
    warn_line(NPK_FACILITY_WILDX,
              "page 0x%" PRIxPTR " (%zu bytes, allocation %" PRIu64
              ") was unmapped behind the runtime's back (in whole or in part); the registry forgets it",
              owner, m.usable, m.id);
}

// Makes [lo, hi), which the kernel has just mapped for a new page, free of
// registrations (lock held). A free unmaps before it unregisters, so the
// range may still hold words of a page FREEING (its start, interior or
// guard words): wait until that free has finished, as for a seal or a
// verify in flight on a page there. A settled live page there was unmapped
// behind the registry's back: forget it; never wait for it. Whoever
// indexes code by address (the free listener: the signature table, names,
// the tools) hears of it as of a free, before the new page is registered
// and returned, so nothing published for the old page can be found at the
// new one: the page goes FREEING (gone to every caller, in flight for a
// fork), the lock is dropped for the listener, and then it is forgotten.
void settle_range(Registry& r, Lock& lk, uintptr_t lo, uintptr_t hi, size_t page) {
    for (;;) {
        bool busy = false;
        uintptr_t unmapped = 0;
        for (uintptr_t q = lo; q < hi && !busy && unmapped == 0; q += page) {
            const Slot s = slot_at(q);
            const uint64_t k = s.kind();
            if (k == kEmpty || k == kFreed) continue;
            const uintptr_t owner = s.owner();
            const Slot o = slot_at(owner);
            const uint64_t ok = o.kind();
            assert(o.owner() == owner && (is_live(ok) || ok == kFreeing));
            busy = ok == kFreeing || ok == kSealing || (ok == kExecutable && o.meta().pins != 0);
            if (!busy) unmapped = owner;
        }
        if (unmapped != 0) {
            if (FreeListener listener = g_free_listener.load(std::memory_order_acquire)) {
                slot_at(unmapped).set(unmapped, kFreeing);  // live → FREEING, as a free does
                ++r.in_flight;
                r.mu.unlock();  // the listener takes its own locks, and may call free()
                listener(unmapped);
                r.mu.lock();
                --r.in_flight;
                wake_waiters(r);
            }
            forget_unmapped(r, unmapped, page);
            continue;  // look again: the table may have changed meanwhile
        }
        if (!busy) return;
        wait_settled(r, lk);
    }
}

// Records a free in the ring; the oldest record falls out when it is full,
// and its address reads as foreign from then on, unless it has been
// reused (a later allocation) or freed again (a newer record) meanwhile.
void remember_freed(Registry& r, uintptr_t a, uint64_t id) {
    constexpr size_t cap = testing::kFreedMemory;
    if (r.freed_count < cap) {
        r.freed[(r.freed_head + r.freed_count) % cap] = {a, id};
        ++r.freed_count;
        return;
    }
    const FreedRecord old = r.freed[r.freed_head];
    const Slot s = slot_at(old.addr);
    if (s && s.word() == (old.addr | kFreed) && s.meta().id == old.id) {
        s.set(0, kEmpty);  // FREED → forgotten
    }
    r.freed[r.freed_head] = {a, id};
    r.freed_head = (r.freed_head + 1) % cap;
}

}  // namespace detail

void* alloc(size_t size) {
    const size_t page = os::page_size();
    if (size == 0) {
        fail(kAlloc.facility, kAlloc.name, Subject::size(size), NPK_WILDX_ERR_ZERO_SIZE);
        return nullptr;
    }
    // A size that cannot even be rounded up exceeds any quota.
    if (size > SIZE_MAX - (page - 1) || !reserve_quota((size + page - 1) & ~(page - 1))) {
        fail(kAlloc.facility, kAlloc.name, Subject::size(size), NPK_WILDX_ERR_QUOTA);
        return nullptr;
    }
    const size_t usable = (size + page - 1) & ~(page - 1);
    const bool guard = config::get(config::guard_pages) != 0;

    void* p = nullptr;
    const os::Status st = guard ? os::map_guarded(usable, &p) : os::map_rw(usable, &p);
    if (st) {
        release_quota(usable);
        fail(kAlloc.facility, kAlloc.name, Subject::size(size), NPK_WILDX_ERR_OS, st.call, st.err);
        return nullptr;
    }

    const uintptr_t a = addr_of(p);
    const uintptr_t lo = guard ? a - page : a;
    const uintptr_t hi = a + usable + (guard ? page : 0);
    const char* refused = nullptr;
    uint64_t id = 0;
    {
        Registry& r = reg();
        Lock lk(r.mu);
        if (((hi - 1) >> kAddrBits) != 0) {
            refused = "mapped above the 48-bit address range the registry indexes";
        } else if (!make_slots(lo, hi, page)) {
            refused = "out of memory for the registry";
        } else {
            settle_range(r, lk, lo, hi, page);
            // (unmapped) → WRITABLE, and the interior / guard words that
            // point back at this page.
            for (uintptr_t q = lo; q < hi; q += page) {
                const uint64_t kind = q == a ? kWritable : (q < a || q >= a + usable) ? kGuard : kInterior;
                slot_at(q).set(a, kind);
            }
            Meta& m = slot_at(a).meta();
            m = Meta{};
            m.requested = size;
            m.usable = usable;
            m.guard = guard;
            m.id = id = ++r.next_id;
            npk_wildx_stats& s = r.stats;
            ++s.live_pages;
            s.live_bytes += usable;
            if (s.live_bytes > s.peak_bytes) s.peak_bytes = s.live_bytes;
            ++s.total_allocs;
        }
    }
    if (refused != nullptr) {
        (void)os::unmap(reinterpret_cast<void*>(lo), hi - lo);
        release_quota(usable);
        fail(kAlloc.facility, kAlloc.name, Subject::size(size), NPK_WILDX_ERR_OS, refused);
        return nullptr;
    }
    audit_line("alloc(%zu) = 0x%" PRIxPTR " usable %zu%s id %" PRIu64, size, a, usable,
               guard ? " guarded" : "", id);
    return p;
}

namespace detail {
uint64_t hash_of(const void* page, size_t usable, HashKind kind) {
    return kind == HashKind::xxh3_64 ? xxh3_64(page, usable) : fnv1a64(page, usable);
}
}  // namespace detail

int32_t seal(void* page, HashKind kind) {
    const uintptr_t a = addr_of(page);
    Registry& r = reg();
    size_t usable = 0;
    {
        Lock lk(r.mu);
        Slot s;
        if (!take_page(r, lk, kSeal, a, kWritable, NPK_ERR_SEALED, &s)) return -1;
        s.set(a, kSealing);  // WRITABLE → SEALING: from here no install, seal or free touches it
        ++r.in_flight;
        usable = s.meta().usable;
    }

    // SEALING → EXECUTABLE, in this order:
    //  1. hash every usable byte: what is hashed is what will run (installs
    //     and frees wait while the entry is SEALING);
    //  2. flush the instruction cache, so that no stale instruction bytes can
    //     be fetched once the page is executable (a no-op on x86);
    //  3. flip RW → RX in one mprotect: the page is never W and X at once,
    //     and nobody can call it before the entry says EXECUTABLE below.
    const uint64_t hash = hash_of(page, usable, kind);
    arch::flush_icache(page, usable);
    const os::Status st = os::protect_rx(page, usable);

    {
        Lock lk(r.mu);
        const Slot s = slot_at(a);
        assert(s && s.word() == (a | kSealing));
        if (st) {
            s.set(a, kWritable);  // SEALING → WRITABLE: the OS refused; the page is untouched and usable
        } else {
            s.meta().hash = hash;
            s.meta().hash_kind = static_cast<uint8_t>(kind);
            s.set(a, kExecutable);  // SEALING → EXECUTABLE (release: callers see RX first)
            ++r.stats.total_seals;
        }
        --r.in_flight;
        wake_waiters(r);
    }
    if (st) return reject(kSeal, a, NPK_WILDX_ERR_OS, st.call, st.err);
    audit_line("seal(0x%" PRIxPTR ") usable %zu hash 0x%016" PRIx64, a, usable, hash);
    return 0;
}

void set_free_listener(FreeListener f) { g_free_listener.store(f, std::memory_order_release); }

namespace {

// free_page, or free_allocation when `id` is not 0.
int32_t free_impl(void* page, uint64_t id) {
    const uintptr_t a = addr_of(page);
    if (a == 0) return reject(kFree, a, NPK_WILDX_ERR_NULL);
    const size_t pg = os::page_size();
    Registry& r = reg();
    size_t usable = 0;
    bool guard = false;
    {
        Lock lk(r.mu);
        const Found f = find_settled(r, lk, a, /*wait_for_pins=*/true);
        if (id != 0 && (f.error != 0 || f.slot.meta().id != id)) return 1;  // not that allocation any more
        if (f.error != 0) {
            lk.unlock();
            return reject(kFree, a, f.error);
        }
        f.slot.set(a, kFreeing);  // WRITABLE / EXECUTABLE → FREEING: gone to every other caller
        ++r.in_flight;
        usable = f.slot.meta().usable;
        guard = f.slot.meta().guard;
    }

    if (FreeListener listener = g_free_listener.load(std::memory_order_acquire)) listener(a);
    const uintptr_t lo = guard ? a - pg : a;
    const uintptr_t hi = a + usable + (guard ? pg : 0);
    const os::Status st = os::unmap(reinterpret_cast<void*>(lo), hi - lo);

    {
        Lock lk(r.mu);
        const Slot s = slot_at(a);
        assert(s && s.word() == (a | kFreeing));
        for (uintptr_t q = lo; q < hi; q += pg) {
            if (q != a) slot_at(q).set(0, kEmpty);
        }
        // FREEING → FREED, whether or not the unmap worked: a page the OS
        // would not unmap is unregistered all the same (reported below),
        // so it can never be sealed, called or freed again.
        s.set(a, kFreed);
        remember_freed(r, a, s.meta().id);
        npk_wildx_stats& stats = r.stats;
        --stats.live_pages;
        stats.live_bytes -= usable;
        if (!st) ++stats.total_frees;
        release_quota(usable);
        --r.in_flight;
        wake_waiters(r);
    }
    if (st) {
        return reject(kFree, a, NPK_WILDX_ERR_OS, "munmap failed; the page is unregistered, its mapping leaked",
                    st.err);
    }
    audit_line("free(0x%" PRIxPTR ") usable %zu", a, usable);
    return 0;
}

}  // namespace

int32_t free_page(void* page) { return free_impl(page, 0); }

int32_t free_allocation(void* page, uint64_t id) {
    assert(id != 0);
    return free_impl(page, id);
}

int32_t write_code(void* page, const void* code, size_t len) {
    const uintptr_t a = addr_of(page);
    Registry& r = reg();
    Lock lk(r.mu);
    Slot s;
    if (!take_page(r, lk, kInstall, a, kWritable, NPK_ERR_NOT_WRITABLE, &s)) return -1;
    assert(len <= s.meta().usable);
    std::memcpy(page, code, len);
    return 0;
}

// --- fork ---------------------------------------------------------------
// Registered once, when the library is loaded. Lock order: the registry,
// then the settings' lock (nothing takes them the other way round).
namespace {

void before_fork() {
    Registry& r = reg();
    r.mu.lock();
    r.forking = true;  // no new entry goes in flight (find_settled, take_page)
    while (r.in_flight != 0) {
        ++r.waiters;
        r.settled.wait(r.mu);
        --r.waiters;
    }
    config::before_fork();
}

void after_fork_in_parent() {
    Registry& r = reg();
    config::after_fork_in_parent();
    r.forking = false;
    wake_waiters(r);
    r.mu.unlock();
}

void after_fork_in_child() {
    Registry& r = reg();
    config::after_fork_in_child();
    r.forking = false;
    r.waiters = 0;  // they were threads of the parent
    r.settled.reset_after_fork();
    r.mu.reset_after_fork();
}

[[gnu::constructor]] void install_fork_handlers() {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

}  // namespace
}  // namespace npk::wildx
