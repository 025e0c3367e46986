// code_index.cpp — the signature table: a radix map from page to CodeIndex.
#include "codegen/code_index.h"

#include "core/registry.h"
#include "core/sync.h"
#include "tools/tools.h"

#include <atomic>
#include <cstdlib>

namespace npk::codegen {
namespace {

// 48-bit addresses, 4 KiB pages: 36 bits of page number in three levels.
constexpr unsigned kPageShift = 12;
constexpr unsigned kLevelBits = 12;
constexpr size_t kFanout = size_t{1} << kLevelBits;

struct Leaf {
    std::atomic<CodeIndex*> idx[kFanout];
};
struct Mid {
    std::atomic<Leaf*> leaf[kFanout];
};

constinit std::atomic<Mid*> g_root[kFanout]{};
constinit Mutex g_mu;  // every writer

size_t part(uintptr_t a, unsigned level) {
    return (a >> (kPageShift + kLevelBits * level)) & (kFanout - 1);
}
bool in_range(uintptr_t a) { return (a >> 48) == 0; }

// The slot of page `a`, created if `create` (lock held); nullptr if absent
// or when a node cannot be allocated.
std::atomic<CodeIndex*>* slot(uintptr_t a, bool create) {
    if (!in_range(a)) return nullptr;
    std::atomic<Mid*>& r = g_root[part(a, 2)];
    Mid* m = r.load(std::memory_order_acquire);
    if (m == nullptr) {
        if (!create) return nullptr;
        m = static_cast<Mid*>(std::calloc(1, sizeof(Mid)));  // zero bits are null atomics
        if (m == nullptr) return nullptr;
        r.store(m, std::memory_order_release);
    }
    std::atomic<Leaf*>& ml = m->leaf[part(a, 1)];
    Leaf* l = ml.load(std::memory_order_acquire);
    if (l == nullptr) {
        if (!create) return nullptr;
        l = static_cast<Leaf*>(std::calloc(1, sizeof(Leaf)));
        if (l == nullptr) return nullptr;
        ml.store(l, std::memory_order_release);
    }
    return &l->idx[part(a, 0)];
}

void set_pages(const CodeIndex* idx, CodeIndex* value) {
    const size_t page = size_t{1} << kPageShift;
    for (uintptr_t a = idx->base; a < idx->base + idx->span; a += page) {
        std::atomic<CodeIndex*>* s = slot(a, false);
        if (s != nullptr) s->store(value, std::memory_order_release);
    }
}

}  // namespace

CodeIndex* make_index(uintptr_t base, size_t span, Entry* entries, uint32_t count) {
    auto* idx = static_cast<CodeIndex*>(std::malloc(sizeof(CodeIndex)));
    if (idx == nullptr) return nullptr;
    *idx = CodeIndex{base, span, count, entries, nullptr};
    return idx;
}

void free_index(CodeIndex* idx) {
    if (idx == nullptr) return;
    if (idx->names != nullptr) {
        for (uint32_t i = 0; i < idx->count; ++i) std::free(idx->names[i]);
        std::free(idx->names);
    }
    std::free(idx->entries);
    std::free(idx);
}

bool publish(CodeIndex* idx) {
    wildx::set_free_listener(&forget);  // idempotent: one atomic store
    const size_t page = size_t{1} << kPageShift;
    Lock lk(g_mu);
    // Create every slot first, so that a failure publishes nothing.
    for (uintptr_t a = idx->base; a < idx->base + idx->span; a += page) {
        if (slot(a, true) == nullptr) return false;
    }
    set_pages(idx, idx);
    return true;
}

void forget(uintptr_t base) {
    // Every wildx free comes here: most pages never held built code, and
    // only this thread can still publish at `base` (it owns the page).
    const std::atomic<CodeIndex*>* seen = slot(base, false);
    if (seen == nullptr || seen->load(std::memory_order_acquire) == nullptr) return;
    CodeIndex* idx = nullptr;
    {
        Lock lk(g_mu);
        std::atomic<CodeIndex*>* s = slot(base, false);
        if (s == nullptr) return;
        idx = s->load(std::memory_order_relaxed);
        if (idx == nullptr || idx->base != base) return;
        set_pages(idx, nullptr);
    }
    tools::code_retired(base);
    free_index(idx);
}

bool lookup(const void* fn, Sig* out, const char** name, uintptr_t* base, size_t* span) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(fn);
    const std::atomic<CodeIndex*>* s = slot(a, false);
    if (s == nullptr) return false;
    const CodeIndex* idx = s->load(std::memory_order_acquire);
    if (idx == nullptr || a < idx->base) return false;
    const uintptr_t off = a - idx->base;
    uint32_t lo = 0, hi = idx->count;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (idx->entries[mid].offset < off) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == idx->count || idx->entries[lo].offset != off) return false;
    *out = idx->entries[lo].sig;
    if (name != nullptr) *name = idx->names != nullptr ? idx->names[lo] : nullptr;
    if (base != nullptr) *base = idx->base;
    if (span != nullptr) *span = (lo + 1 < idx->count ? idx->entries[lo + 1].offset : idx->end) - off;
    return true;
}

}  // namespace npk::codegen
