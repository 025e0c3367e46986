// registry_queries.cpp — the wildx registry's queries, verification and
// stats: they look pages up (and pin one while re-hashing it) but make no
// transition; the state machine and its transitions are in registry.cpp,
// what both share in registry_internal.h.
#include "core/registry.h"
#include "core/registry_internal.h"

#include "core/errors.h"
#include "core/page_table.h"
#include "core/sync.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace npk::wildx {

using namespace detail;

uint64_t id_of(const void* page) {
    const uintptr_t a = addr_of(page);
    if (a == 0) return 0;
    Lock lk(reg().mu);
    const Found f = find_start(a);
    return f.error == 0 ? f.slot.meta().id : 0;
}

int32_t state(const void* page) {
    const uintptr_t a = addr_of(page);
    if ((a & kKindMask) != 0) return NPK_WILDX_UNKNOWN;
    const uint64_t w = load_word(a);
    if ((w & ~kKindMask) != a) return NPK_WILDX_UNKNOWN;  // empty, or another page's interior / guard
    switch (w & kKindMask) {
        case kWritable:
        case kSealing:  // not executable until seal returns
            return NPK_WILDX_WRITABLE;
        case kExecutable:
            return NPK_WILDX_EXECUTABLE;
        default:
            return NPK_WILDX_UNKNOWN;
    }
}

size_t size(const void* page) {
    const uintptr_t a = addr_of(page);
    if (a == 0) return 0;
    Lock lk(reg().mu);
    const Found f = find_start(a);
    return f.error == 0 ? f.slot.meta().usable : 0;
}

int32_t code_hash(const void* page, uint64_t* out) {
    const uintptr_t a = addr_of(page);
    if (out == nullptr) return reject(kCodeHash, a, NPK_WILDX_ERR_INVALID_ARGUMENT);
    Lock lk(reg().mu);
    Slot s;
    if (!take_page(reg(), lk, kCodeHash, a, kExecutable, NPK_ERR_NOT_EXECUTABLE, &s)) return -1;
    *out = s.meta().hash;
    return 0;
}

namespace {

// Hashes the EXECUTABLE allocation at `page` again: 0 if it matches the
// hash of its seal, 1 if not (nothing reported), -1 if `page` is no
// EXECUTABLE page's start (reported as `op`'s rejection).
int32_t rehash(const void* page, Op op) {
    const uintptr_t a = addr_of(page);
    Registry& r = reg();
    size_t usable = 0;
    uint64_t recorded = 0;
    auto kind = HashKind::fnv1a64;
    {
        Lock lk(r.mu);
        Slot s;
        if (!take_page(r, lk, op, a, kExecutable, NPK_ERR_NOT_EXECUTABLE, &s)) return -1;
        ++s.meta().pins;  // a free waits until we have read the page
        ++r.in_flight;
        usable = s.meta().usable;
        recorded = s.meta().hash;
        kind = static_cast<HashKind>(s.meta().hash_kind);
    }
    const uint64_t now = hash_of(page, usable, kind);
    {
        Lock lk(r.mu);
        const Slot s = slot_at(a);
        assert(s && s.word() == (a | kExecutable) && s.meta().pins > 0);
        --r.in_flight;
        if (--s.meta().pins == 0 || r.in_flight == 0) wake_waiters(r);
    }
    return now == recorded ? 0 : 1;
}

}  // namespace

constexpr const char* kChangedDetail = "NPK_WILDX_VERIFY=call: the code no longer hashes as at its seal";

int32_t verify(const void* page) {
    const int32_t r = rehash(page, kVerify);
    return r == 1 ? reject(kVerify, addr_of(page), NPK_WILDX_ERR_HASH_MISMATCH) : r;
}

int32_t verify_before_call(const void* page, int32_t facility, const char* op) {
    const int32_t r = rehash(page, Op{facility, op});
    return r == 1 ? reject(Op{facility, op}, addr_of(page), NPK_WILDX_ERR_HASH_MISMATCH, kChangedDetail) : r;
}

void get_stats(npk_wildx_stats* out) {
    if (out == nullptr) return;
    Lock lk(reg().mu);
    *out = reg().stats;
}

void require_executable(const void* page) {
    const uintptr_t a = addr_of(page);
    const char* what = "null";
    if (a != 0) {
        Lock lk(reg().mu);
        const Found f = find_start(a);
        if (f.kind == kExecutable) {  // sealed after the lock-free look
            if (!verify_calls()) return;
            lk.unlock();
            const int32_t r = rehash(page, kCall);
            if (r == 0) return;
            if (r == 1) refuse_call(a, NPK_ERR_HASH_MISMATCH, kChangedDetail);
            std::abort();  // r == -1: freed meanwhile, reported by rehash
        }
        switch (f.error) {
            case 0: what = "writable"; break;
            case NPK_WILDX_ERR_FREED: what = "freed"; break;
            case NPK_WILDX_ERR_INTERIOR: what = "interior pointer"; break;
            default: what = "not a wildx page"; break;
        }
    }
    char why[64];
    std::snprintf(why, sizeof why, "page is not executable (state: %s)", what);
    refuse_call(a, NPK_ERR_NOT_EXECUTABLE, why);
    std::abort();
}

void count_rejection() {
    Lock lk(reg().mu);
    ++reg().stats.total_rejections;
}

}  // namespace npk::wildx
