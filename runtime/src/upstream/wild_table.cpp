// wild_table.cpp — the wild heap's table of live blocks: open addressing
// over calloc'ed slots, doubled at half full, one mutex.
#include "upstream/wild_table.h"

#include "core/sync.h"

#include <cstdlib>
#include <pthread.h>

namespace npk::wild {
namespace {

constexpr uintptr_t kEmpty = 0;
constexpr uintptr_t kGone = 1;  // a removed record: probing goes on past it

struct Slot {
    uintptr_t key;
    size_t size;
    size_t align;
};

Mutex g_mu;
Slot* g_slots = nullptr;
size_t g_cap = 0;   // a power of two, or 0
size_t g_used = 0;  // live records and kGone markers
Counters g_count{};

size_t hash(uintptr_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
}

// The slot holding `key`, or nullptr.
Slot* lookup(uintptr_t key) {
    if (g_cap == 0) return nullptr;
    for (size_t i = hash(key) & (g_cap - 1);; i = (i + 1) & (g_cap - 1)) {
        if (g_slots[i].key == key) return &g_slots[i];
        if (g_slots[i].key == kEmpty) return nullptr;
    }
}

bool grow() {
    const size_t cap = g_cap == 0 ? 64 : g_cap * 2;
    auto* slots = static_cast<Slot*>(std::calloc(cap, sizeof(Slot)));
    if (slots == nullptr) return false;
    size_t used = 0;
    for (size_t j = 0; j < g_cap; ++j) {
        const Slot& s = g_slots[j];
        if (s.key == kEmpty || s.key == kGone) continue;
        size_t i = hash(s.key) & (cap - 1);
        while (slots[i].key != kEmpty) i = (i + 1) & (cap - 1);
        slots[i] = s;
        ++used;
    }
    std::free(g_slots);
    g_slots = slots;
    g_cap = cap;
    g_used = used;
    return true;
}

void drop(Slot* s) {
    g_count.live_bytes -= s->size;
    g_count.live_blocks -= 1;
    s->key = kGone;
}

// fork(): a child must find the table's lock free whatever other threads
// of the parent were doing.
void before_fork() { g_mu.lock(); }
void after_fork_parent() { g_mu.unlock(); }
void after_fork_child() { g_mu.reset_after_fork(); }
pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;
void install_fork_handlers() { pthread_atfork(before_fork, after_fork_parent, after_fork_child); }

}  // namespace

bool remember(void* p, size_t size, size_t align) {
    const auto key = reinterpret_cast<uintptr_t>(p);
    pthread_once(&g_fork_once, install_fork_handlers);
    Lock lk(g_mu);
    if (Slot* stale = lookup(key)) drop(stale);  // given back with free(): the C allocator reused it
    if ((g_used + 1) * 2 > g_cap && !grow()) return false;
    size_t i = hash(key) & (g_cap - 1);
    while (g_slots[i].key != kEmpty && g_slots[i].key != kGone) i = (i + 1) & (g_cap - 1);
    if (g_slots[i].key == kEmpty) ++g_used;
    g_slots[i] = Slot{key, size, align};
    g_count.live_bytes += size;
    g_count.live_blocks += 1;
    if (g_count.live_bytes > g_count.peak_bytes) g_count.peak_bytes = g_count.live_bytes;
    return true;
}

bool forget(void* p, size_t* size, size_t* align) {
    Lock lk(g_mu);
    Slot* s = lookup(reinterpret_cast<uintptr_t>(p));
    if (s == nullptr) return false;
    *size = s->size;
    *align = s->align;
    drop(s);
    g_count.frees += 1;
    return true;
}

bool find(const void* p, size_t* size, size_t* align) {
    Lock lk(g_mu);
    const Slot* s = lookup(reinterpret_cast<uintptr_t>(p));
    if (s == nullptr) return false;
    *size = s->size;
    *align = s->align;
    return true;
}

Counters counters() {
    Lock lk(g_mu);
    return g_count;
}

}  // namespace npk::wild
