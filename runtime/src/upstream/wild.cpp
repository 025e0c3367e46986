// wild.cpp — the wild heap (runtime/allocators.h, and npk_alloc /
// npk_free of npk/wildx.h): blocks from the C allocator, recorded in
// wild_table so that sizes, counters and double frees are known without a
// header in front of the block.
#include <nitpick/runtime/allocators.h>
#include <npk/status.h>

#include "core/errors.h"
#include "core/registry.h"
#include "os/os.h"
#include "upstream/wild_table.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr size_t kMaxObject = static_cast<size_t>(PTRDIFF_MAX);

bool power_of_two(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The C allocator's own alignment is at least this on every host we build
// for (glibc: 16 on 64-bit).
constexpr size_t kNaturalAlign = 16;

int32_t report(const char* op, const void* subject, int32_t code, const char* detail) {
    return npk::fail(NPK_FACILITY_WILDX, op, npk::Subject::pointer(subject), code, detail);
}

// With npk_wild_enable_guard_pages on, a block gets a mapping of its own
// between two inaccessible pages, placed to end as close to the trailing
// one as its alignment allows (an overrun faults within 16 bytes, an
// underrun at the page before). The table marks it with this alignment.
constexpr size_t kGuardedBlock = SIZE_MAX;
std::atomic<bool> g_wild_guard_pages{false};

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

void* map_guarded_block(size_t size, size_t align) {
    const size_t pg = npk::os::page_size();
    void* data = nullptr;
    if (size > kMaxObject - 2 * pg || npk::os::map_guarded(round_up(size, pg), &data)) return nullptr;
    const uintptr_t a = align < kNaturalAlign ? kNaturalAlign : align;
    const uintptr_t end = reinterpret_cast<uintptr_t>(data) + round_up(size, pg);
    return reinterpret_cast<void*>((end - size) & ~(a - 1));
}

// Its mapping, found again from the block: it ends at the first page
// boundary at or after the block's end.
void unmap_guarded_block(void* p, size_t size) {
    const size_t pg = npk::os::page_size();
    const uintptr_t end = round_up(reinterpret_cast<uintptr_t>(p) + size, pg);
    const uintptr_t data = end - round_up(size, pg);
    if (const npk::os::Status st = npk::os::unmap(reinterpret_cast<void*>(data - pg), round_up(size, pg) + 2 * pg)) {
        npk::fail(NPK_FACILITY_WILDX, "npk_free", npk::Subject::pointer(p), NPK_ERR_OS, "the block's guarded mapping",
                  st.err);
    }
}

void give_back(void* p, size_t size, size_t align) {
    if (align == kGuardedBlock) {
        unmap_guarded_block(p, size);
    } else {
        std::free(p);
    }
}

// One block of `size` bytes aligned to `align` (0: natural), recorded.
AriaAllocError make_block(size_t size, size_t align, bool zero, void** out) {
    *out = nullptr;
    if (size == 0 || size > kMaxObject) return ARIA_ALLOC_ERR_INVALID_SIZE;
    if (align != 0 && !power_of_two(align)) return ARIA_ALLOC_ERR_INVALID_ALIGNMENT;
    void* p = nullptr;
    const bool guarded = g_wild_guard_pages.load(std::memory_order_relaxed) && align <= npk::os::page_size();
    if (guarded) {
        p = map_guarded_block(size, align);  // zero-filled by the kernel
    } else if (align <= kNaturalAlign) {
        p = zero ? std::calloc(1, size) : std::malloc(size);
    } else {
        // posix_memalign: a block free() accepts, unlike one offset by hand
        // inside a larger block.
        if (posix_memalign(&p, align, size) != 0) p = nullptr;
        if (p != nullptr && zero) std::memset(p, 0, size);
    }
    if (p == nullptr) return ARIA_ALLOC_ERR_OUT_OF_MEMORY;
    const size_t recorded = guarded ? kGuardedBlock : align <= kNaturalAlign ? 0 : align;
    if (!npk::wild::remember(p, size, recorded)) {
        give_back(p, size, recorded);
        return ARIA_ALLOC_ERR_OUT_OF_MEMORY;
    }
    *out = p;
    return ARIA_ALLOC_OK;
}

// The plain forms return NULL; misuse is reported, running out of memory
// too, an empty request is not (npk_alloc(0) has always been NULL quietly).
void* plain(const char* op, size_t size, size_t align, bool zero) {
    void* p = nullptr;
    switch (make_block(size, align, zero, &p)) {
        case ARIA_ALLOC_OK: return p;
        case ARIA_ALLOC_ERR_INVALID_SIZE:
            if (size != 0) report(op, nullptr, NPK_ERR_INVALID_ARGUMENT, "larger than any object can be");
            return nullptr;
        case ARIA_ALLOC_ERR_INVALID_ALIGNMENT:
            report(op, nullptr, NPK_ERR_INVALID_ARGUMENT, "the alignment is not a power of two");
            return nullptr;
        case ARIA_ALLOC_ERR_OUT_OF_MEMORY:
        case ARIA_ALLOC_ERR_SIZE_OVERFLOW:
        case ARIA_ALLOC_ERR_UNSUPPORTED: break;
    }
    report(op, nullptr, NPK_ERR_OUT_OF_MEMORY, "the C allocator had no block");
    return nullptr;
}

bool array_bytes(size_t elem, size_t count, size_t* out) { return !__builtin_mul_overflow(elem, count, out); }

bool g_stats_at_exit = false;
bool g_exit_hook = false;

void print_at_exit() {
    if (g_stats_at_exit) npk_wild_print_stats();
}

}  // namespace

extern "C" {

void* npk_alloc(size_t size) { return plain("npk_alloc", size, 0, true); }

void npk_free(void* block) {
    if (block == nullptr) return;
    size_t size = 0, align = 0;
    if (!npk::wild::forget(block, &size, &align)) {
        report("npk_free", block, NPK_ERR_INVALID_ARGUMENT,
               "not a live block of the wild heap: freed already, or not from npk_alloc");
        return;
    }
    give_back(block, size, align);
}

void* npk_realloc(void* block, size_t new_size) {
    constexpr const char* op = "npk_realloc";
    if (block == nullptr) return npk_alloc(new_size);
    size_t size = 0, align = 0;
    if (!npk::wild::find(block, &size, &align)) {
        report(op, block, NPK_ERR_INVALID_ARGUMENT, "not a live block of the wild heap");
        return nullptr;
    }
    if (new_size == 0) {
        npk_free(block);
        return nullptr;
    }
    if (new_size > kMaxObject) {
        report(op, block, NPK_ERR_INVALID_ARGUMENT, "larger than any object can be");
        return nullptr;
    }
    void* p = nullptr;
    if (align == 0) {
        // The record goes first: after realloc the old pointer may not be used.
        size_t s = 0, a = 0;
        npk::wild::forget(block, &s, &a);
        const auto old_address = reinterpret_cast<uintptr_t>(block);
        p = std::realloc(block, new_size);
        if (p == nullptr) {
            npk::wild::remember(reinterpret_cast<void*>(old_address), size, 0);  // still live, and known
            report(op, reinterpret_cast<void*>(old_address), NPK_ERR_OUT_OF_MEMORY, "the C allocator had no block");
            return nullptr;
        }
        if (new_size > size) std::memset(static_cast<char*>(p) + size, 0, new_size - size);
        if (!npk::wild::remember(p, new_size, 0)) {
            report(op, p, NPK_ERR_OUT_OF_MEMORY, "no memory for the heap's table (the block is given back)");
            std::free(p);
            return nullptr;
        }
        return p;
    }
    // An aligned (or guarded) block keeps its alignment: a new one, then the copy.
    p = plain(op, new_size, align == kGuardedBlock ? 0 : align, true);
    if (p == nullptr) return nullptr;
    std::memcpy(p, block, size < new_size ? size : new_size);
    npk_free(block);
    return p;
}

void* npk_alloc_buffer(size_t size, size_t alignment, bool zero_init) {
    return plain("npk_alloc_buffer", size, alignment, zero_init);
}

char* npk_alloc_string(size_t size) {
    if (size >= kMaxObject) {
        report("npk_alloc_string", nullptr, NPK_ERR_INVALID_ARGUMENT, "no room for the terminator");
        return nullptr;
    }
    return static_cast<char*>(plain("npk_alloc_string", size + 1, 0, true));
}

void* npk_alloc_array(size_t elem_size, size_t count) {
    size_t bytes = 0;
    if (!array_bytes(elem_size, count, &bytes)) {
        report("npk_alloc_array", nullptr, NPK_ERR_INVALID_ARGUMENT, "elem_size * count overflows size_t");
        return nullptr;
    }
    return plain("npk_alloc_array", bytes, 0, true);
}

AriaAllocResult npk_alloc_result(size_t size) {
    void* p = nullptr;
    const AriaAllocError e = make_block(size, 0, true, &p);
    return e == ARIA_ALLOC_OK ? npk_alloc_result_ok(p, size, 0) : npk_alloc_result_err(e, size, 0);
}

AriaAllocResult npk_alloc_array_result(size_t elem_size, size_t count) {
    size_t bytes = 0;
    if (elem_size == 0 || count == 0) return npk_alloc_result_err(ARIA_ALLOC_ERR_INVALID_SIZE, 0, 0);
    if (!array_bytes(elem_size, count, &bytes)) return npk_alloc_result_err(ARIA_ALLOC_ERR_SIZE_OVERFLOW, SIZE_MAX, 0);
    void* p = nullptr;
    const AriaAllocError e = make_block(bytes, 0, true, &p);
    return e == ARIA_ALLOC_OK ? npk_alloc_result_ok(p, bytes, 0) : npk_alloc_result_err(e, bytes, 0);
}

AriaAllocResult npk_alloc_aligned_result(size_t size, size_t alignment) {
    void* p = nullptr;
    // Here 0 is not "default": an aligned allocation names its alignment.
    const AriaAllocError e =
        alignment == 0 ? ARIA_ALLOC_ERR_INVALID_ALIGNMENT : make_block(size, alignment, true, &p);
    if (size == 0) return npk_alloc_result_err(ARIA_ALLOC_ERR_INVALID_SIZE, size, alignment);
    return e == ARIA_ALLOC_OK ? npk_alloc_result_ok(p, size, alignment) : npk_alloc_result_err(e, size, alignment);
}

AriaAllocResult npk_alloc_buffer_result(size_t size, size_t alignment, bool zero_init) {
    void* p = nullptr;
    const AriaAllocError e = make_block(size, alignment, zero_init, &p);
    return e == ARIA_ALLOC_OK ? npk_alloc_result_ok(p, size, alignment) : npk_alloc_result_err(e, size, alignment);
}

size_t npk_alloc_get_size(void* block) {
    size_t size = 0, align = 0;
    return block != nullptr && npk::wild::find(block, &size, &align) ? size : 0;
}

void npk_wild_enable_guard_pages(bool enable) { g_wild_guard_pages.store(enable, std::memory_order_relaxed); }

void npk_wild_enable_stats_at_exit(bool enable) {
    g_stats_at_exit = enable;
    if (enable && !g_exit_hook) g_exit_hook = std::atexit(print_at_exit) == 0;
}

void npk_allocator_get_stats(AllocatorStats* stats) {
    if (stats == nullptr) return;
    const npk::wild::Counters w = npk::wild::counters();
    npk_wildx_stats x;
    npk::wildx::get_stats(&x);
    *stats = AllocatorStats{w.live_bytes,
                            static_cast<size_t>(x.live_bytes),
                            w.live_blocks,
                            w.frees,
                            static_cast<size_t>(x.live_pages),
                            static_cast<size_t>(x.total_frees),
                            w.peak_bytes,
                            static_cast<size_t>(x.peak_bytes)};
}

void npk_wild_print_stats(void) {
    AllocatorStats s;
    npk_allocator_get_stats(&s);
    std::fprintf(stderr,
                 "wild: %zu live block(s), %zu byte(s), peak %zu byte(s), %zu freed\n"
                 "wildx: %zu live page(s), %zu byte(s), peak %zu byte(s), %zu freed, quota %zu byte(s)\n",
                 s.num_wild_allocations, s.total_wild_allocated, s.peak_wild_usage, s.num_wild_frees,
                 s.num_wildx_allocations, s.total_wildx_allocated, s.peak_wildx_usage, s.num_wildx_frees,
                 npk_wildx_quota());
}

}  // extern "C"
