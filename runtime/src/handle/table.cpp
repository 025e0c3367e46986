// table.cpp — arenas, slots and generations.
//
// A slot goes round one cycle, and each step happens in one function:
//
//   (new) ──alloc──▶ LIVE ──free_block / arena_destroy──▶ FREE ──alloc──▶ LIVE …
//                                         │
//                                         └─ generation at its limit ─▶ RETIRED
//
// LIVE means `data != nullptr`; a handle matches only a LIVE slot of the
// same generation. Freeing bumps the generation before the slot can be
// reused, so every copy of the old handle is stale for good.
//
// Arena ids are reused, but each id keeps a floor: a new arena with that
// id starts its slots above every generation the previous one reached.
// A handle into a destroyed arena therefore has a generation below its
// current arena's base, whatever happened to the id since.
//
// Locking. One mutex guards the id table, every arena and the stats: the
// handle calls are short, and a destroy must never interleave with a
// deref of the same arena. A block is calloc'ed before the lock is taken
// and freed after it is released; only a growing slot array calls into
// the C heap under the lock.
#include "handle/table.h"

#include "core/sync.h"
#include "handle/test_seams.h"

#include <atomic>
#include <cassert>
#include <cstdlib>

namespace npk::handle {
namespace {

struct Slot {
    void* data = nullptr;  // LIVE iff not null
    uint64_t size = 0;
    uint32_t generation = 0;
    uint32_t next_free = 0;  // free list link: slot index + 1, 0 ends the list
};

struct Arena {
    Slot* slots = nullptr;
    uint32_t count = 0;     // slots in use or free; never shrinks
    uint32_t capacity = 0;
    uint32_t free_head = 0;  // slot index + 1 of the first FREE slot, 0 if none
    uint32_t base = 1;       // generation of every new slot
    uint32_t top = 1;        // highest generation any slot has had
    uint32_t limit = UINT32_MAX;
    uint64_t live = 0;
    uint64_t live_bytes = 0;
};

struct IdEntry {
    Arena* arena = nullptr;
    uint32_t floor = 0;         // the next arena with this id starts above it
    uint16_t next_free_id = 0;  // free id list link, 0 ends the list
    bool retired = false;       // its generations ran out: never handed out again
};

struct Table {
    Mutex mu;
    IdEntry ids[kMaxArenaId + 1];  // ids[0] unused: arena 0 is no arena
    uint32_t issued = 0;           // ids 1..issued were handed out at least once
    uint16_t free_id_head = 0;
    npk_handle_stats stats{};
};

// Constant-initialized (an untouched 1 MiB of .bss), so the table works
// before any static constructor has run and after every destructor.
constinit Table g_table;

std::atomic<uint32_t> g_fail_nth{0};
std::atomic<uint32_t> g_generation_limit{UINT32_MAX};

// Every memory request of this facility, so a test can make any one fail.
void* table_calloc(size_t n, size_t size) {
    uint32_t nth = g_fail_nth.load(std::memory_order_relaxed);
    while (nth != 0) {
        if (g_fail_nth.compare_exchange_weak(nth, nth - 1, std::memory_order_relaxed)) {
            if (nth == 1) return nullptr;
            break;
        }
    }
    return std::calloc(n, size);
}

Arena* live_arena(int64_t id) {
    if (id <= 0 || id > kMaxArenaId) return nullptr;
    return g_table.ids[id].arena;
}

// The slot `h` names, or the status saying why there is none. Lock held.
int32_t find_slot(npk_handle_t h, Arena** arena_out, Slot** slot_out) {
    if (h == NPK_HANDLE_NULL) return NPK_ERR_NULL;
    const Fields f = unpack(h);
    if (f.generation == 0 || f.arena == 0) return NPK_ERR_HANDLE_MALFORMED;
    Arena* a = live_arena(f.arena);
    if (a == nullptr || f.generation < a->base) return NPK_ERR_HANDLE_NO_ARENA;
    if (f.slot >= a->count) return NPK_ERR_HANDLE_MALFORMED;
    Slot& s = a->slots[f.slot];
    if (f.generation > s.generation) return NPK_ERR_HANDLE_MALFORMED;
    if (f.generation < s.generation || s.data == nullptr) return NPK_ERR_HANDLE_STALE;
    *arena_out = a;
    *slot_out = &s;
    return NPK_OK;
}

// A FREE slot of `a` for a new block, growing the slot array if needed;
// nullptr with *status set when there is none. Lock held.
Slot* take_slot(Arena* a, uint32_t* index, int32_t* status) {
    if (a->free_head != 0) {
        *index = a->free_head - 1;
        Slot* s = &a->slots[*index];
        a->free_head = s->next_free;
        s->next_free = 0;
        return s;
    }
    if (a->count == kMaxSlots) {
        *status = NPK_ERR_HANDLE_ARENA_FULL;
        return nullptr;
    }
    if (a->count == a->capacity) {
        const uint32_t grown = a->capacity == 0 ? 8 : (a->capacity > kMaxSlots / 2 ? kMaxSlots : a->capacity * 2);
        auto* slots = static_cast<Slot*>(table_calloc(grown, sizeof(Slot)));
        if (slots == nullptr) {
            *status = NPK_ERR_OUT_OF_MEMORY;
            return nullptr;
        }
        for (uint32_t i = 0; i < a->count; ++i) slots[i] = a->slots[i];
        std::free(a->slots);  // the C heap under the lock, but only when the array grows
        a->slots = slots;
        a->capacity = grown;
    }
    *index = a->count++;
    Slot* s = &a->slots[*index];
    s->generation = a->base;
    return s;
}

}  // namespace

int32_t arena_create(int64_t* id_out) {
    auto* fresh = static_cast<Arena*>(table_calloc(1, sizeof(Arena)));
    if (fresh == nullptr) return NPK_ERR_OUT_OF_MEMORY;
    Lock lock(g_table.mu);
    uint32_t id = 0;
    if (g_table.free_id_head != 0) {
        id = g_table.free_id_head;
        g_table.free_id_head = g_table.ids[id].next_free_id;
    } else if (g_table.issued < kMaxArenaId) {
        id = ++g_table.issued;
    } else {
        lock.unlock();
        std::free(fresh);
        return NPK_ERR_HANDLE_ARENAS_EXHAUSTED;
    }
    IdEntry& e = g_table.ids[id];
    assert(e.arena == nullptr && !e.retired);
    *fresh = Arena{};
    fresh->limit = g_generation_limit.load(std::memory_order_relaxed);
    // Cannot wrap: an arena whose generations reached its limit retires its id.
    fresh->base = e.floor + 1;
    fresh->top = fresh->base;
    e.arena = fresh;
    e.next_free_id = 0;
    g_table.stats.live_arenas++;
    g_table.stats.total_arena_creates++;
    *id_out = id;
    return NPK_OK;
}

int32_t arena_destroy(int64_t id) {
    Arena* a = nullptr;
    {
        Lock lock(g_table.mu);
        a = live_arena(id);
        if (a == nullptr) return NPK_ERR_HANDLE_NO_ARENA;
        IdEntry& e = g_table.ids[id];
        e.arena = nullptr;
        e.floor = a->top;
        if (a->top >= a->limit) {
            e.retired = true;
        } else {
            e.next_free_id = g_table.free_id_head;
            g_table.free_id_head = static_cast<uint16_t>(id);
        }
        npk_handle_stats& st = g_table.stats;
        st.live_arenas--;
        st.live_handles -= a->live;
        st.live_bytes -= a->live_bytes;
        st.total_frees += a->live;
        st.total_arena_destroys++;
    }
    // Nobody can reach `a` any more: release its memory outside the lock.
    for (uint32_t i = 0; i < a->count; ++i) std::free(a->slots[i].data);
    std::free(a->slots);
    std::free(a);
    return NPK_OK;
}

int32_t alloc(int64_t arena, int64_t size, npk_handle_t* out) {
    if (size < 0) return NPK_ERR_INVALID_ARGUMENT;
    if (size == 0) return NPK_ERR_ZERO_SIZE;
    if (static_cast<uint64_t>(size) > kMaxBlockSize) return NPK_ERR_OUT_OF_MEMORY;
    void* data = table_calloc(1, static_cast<size_t>(size));
    if (data == nullptr) return NPK_ERR_OUT_OF_MEMORY;

    int32_t status = NPK_OK;
    {
        Lock lock(g_table.mu);
        Arena* a = live_arena(arena);
        uint32_t index = 0;
        Slot* s = nullptr;
        if (a == nullptr) {
            status = NPK_ERR_HANDLE_NO_ARENA;
        } else {
            s = take_slot(a, &index, &status);
        }
        if (s != nullptr) {
            s->data = data;
            s->size = static_cast<uint64_t>(size);
            a->live++;
            a->live_bytes += s->size;
            g_table.stats.live_handles++;
            g_table.stats.live_bytes += s->size;
            g_table.stats.total_allocs++;
            *out = pack(Fields{s->generation, static_cast<uint32_t>(arena), index});
            return NPK_OK;
        }
    }
    std::free(data);
    return status;
}

int32_t deref(npk_handle_t h, void** out) {
    Lock lock(g_table.mu);
    Arena* a = nullptr;
    Slot* s = nullptr;
    const int32_t status = find_slot(h, &a, &s);
    if (status == NPK_OK) *out = s->data;
    return status;
}

int32_t free_block(npk_handle_t h) {
    void* data = nullptr;
    {
        Lock lock(g_table.mu);
        Arena* a = nullptr;
        Slot* s = nullptr;
        const int32_t status = find_slot(h, &a, &s);
        if (status != NPK_OK) return status;
        data = s->data;
        s->data = nullptr;
        a->live--;
        a->live_bytes -= s->size;
        g_table.stats.live_handles--;
        g_table.stats.live_bytes -= s->size;
        g_table.stats.total_frees++;
        // A slot at its generation limit stays FREE but leaves the cycle:
        // reusing it would bring an old handle back to life.
        if (s->generation < a->limit) {
            s->generation++;
            if (s->generation > a->top) a->top = s->generation;
            const uint32_t index = unpack(h).slot;
            s->next_free = a->free_head;
            a->free_head = index + 1;
        }
        s->size = 0;
    }
    std::free(data);
    return NPK_OK;
}

void get_stats(npk_handle_stats* out) {
    Lock lock(g_table.mu);
    *out = g_table.stats;
}

void count_rejection() {
    Lock lock(g_table.mu);
    g_table.stats.total_rejections++;
}

namespace testing {

void fail_nth_alloc(uint32_t nth) { g_fail_nth.store(nth, std::memory_order_relaxed); }

void set_generation_limit(uint32_t limit) {
    g_generation_limit.store(limit == 0 ? UINT32_MAX : limit, std::memory_order_relaxed);
}

}  // namespace testing
}  // namespace npk::handle
