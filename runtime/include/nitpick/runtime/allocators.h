/*
 * runtime/allocators.h — upstream Nitpick's allocator API over libnpkjit
 * (include it as "runtime/allocators.h" with -I<prefix>/include/nitpick).
 *
 * Three parts, with upstream's names, types and values:
 *
 *  1. The `wild` heap: npk_alloc / npk_free / npk_realloc and the
 *     specialised forms (buffers, strings, arrays, *_result forms). Every
 *     block comes straight from the C allocator (calloc, or
 *     posix_memalign for an explicit alignment) with no hidden header in
 *     front of it, so a block may be given back with npk_free or with the
 *     C library's free() (unless wild guard pages are on); sizes and
 *     counts are kept in a table beside the heap. A block freed with
 *     free() is not seen by the counters until its address is handed out
 *     again.
 *
 *  2. WildXGuard: a W^X page described by a struct the caller keeps. The
 *     page is an ordinary page of the wildx registry (<npk/wildx.h>):
 *     never writable and executable at once, its FNV-1a hash taken at the
 *     seal, guard pages, quota and audit lines from the same settings, and
 *     once sealed it is known to the signature table, the perf map and the
 *     GDB JIT interface like any code the runtime builds. The registry,
 *     not the struct, is the truth: a stale copy of a guard can never seal,
 *     call or free a page it no longer describes.
 *
 *  3. The pointer-keyed wildx calls (npk_wildx_alloc / _seal / _free),
 *     which are the ones of <npk/wildx.h>, declared again with the same
 *     types so that this directory stands alone.
 *
 * Failures are reported the runtime's way: the thread's last error
 * (npk_last_error in <npk/status.h>) and one stderr line unless quiet.
 */
#ifndef NPK_UPSTREAM_RUNTIME_ALLOCATORS_H
#define NPK_UPSTREAM_RUNTIME_ALLOCATORS_H

#include "result.h"

NPK_EXTERN_C_BEGIN

/* ---------------------------------------------------------------------
 * The wild heap.
 * ------------------------------------------------------------------- */

/* A zero-filled block of `size` bytes; NULL for size 0 or when memory
 * runs out. Give it back with npk_free (or free()). */
NPK_API void* npk_alloc(size_t size);

/* Gives back a block of this heap. NULL is ignored. A pointer this heap
 * does not know as live (a second free, a foreign pointer) is refused
 * with NPK_ERR_NOT_WILDX or NPK_ERR_FREED and left alone: nothing is
 * freed twice. */
NPK_API void npk_free(void* block);

/*
 * Resizes a block, keeping its first min(old, new) bytes; bytes past the
 * old size are zero. NULL `block` allocates; `new_size` 0 frees the block
 * and returns NULL. On failure returns NULL and `block` is left as it
 * was. A block from npk_alloc_buffer with an alignment keeps it.
 */
NPK_API void* npk_realloc(void* block, size_t new_size);

/*
 * A block of `size` bytes aligned to `alignment` (a power of two; 0 means
 * the C allocator's own, at least 16), zeroed if `zero_init`. NULL for
 * size 0, an alignment that is not a power of two, or no memory. The
 * block may be given back with npk_free or free().
 */
NPK_API void* npk_alloc_buffer(size_t size, size_t alignment, bool zero_init);

/* A zeroed block of size + 1 bytes for a string of `size` characters
 * (its terminator included). NULL if size + 1 overflows or no memory. */
NPK_API char* npk_alloc_string(size_t size);

/* A zeroed array of `count` elements of `elem_size` bytes; NULL when
 * either is 0, the product overflows size_t, or no memory. */
NPK_API void* npk_alloc_array(size_t elem_size, size_t count);

/* The same allocations, saying why they failed (runtime/result.h):
 *   ARIA_ALLOC_ERR_INVALID_SIZE       size or count 0
 *   ARIA_ALLOC_ERR_SIZE_OVERFLOW      elem_size * count overflows
 *   ARIA_ALLOC_ERR_INVALID_ALIGNMENT  not a power of two
 *   ARIA_ALLOC_ERR_OUT_OF_MEMORY      the C allocator had nothing      */
NPK_API AriaAllocResult npk_alloc_result(size_t size);
NPK_API AriaAllocResult npk_alloc_array_result(size_t elem_size, size_t count);
NPK_API AriaAllocResult npk_alloc_aligned_result(size_t size, size_t alignment);
NPK_API AriaAllocResult npk_alloc_buffer_result(size_t size, size_t alignment, bool zero_init);

/* The size a live block was asked for; 0 for NULL or a pointer that is
 * not a live block of this heap. */
NPK_API size_t npk_alloc_get_size(void* block);

/*
 * With guard pages on, each later block gets a mapping of its own between
 * two inaccessible pages, placed so that it ends within 16 bytes (or its
 * alignment) of the trailing one: an overrun faults at once, an underrun
 * at the page before the block's first page. Such a block must be given
 * back with npk_free (or npk_realloc), not free(). Costs two pages and a
 * mapping per block: for debugging. Off by default; blocks already made
 * keep what they had. An alignment above the page size gets no guards.
 */
NPK_API void npk_wild_enable_guard_pages(bool enable);

/* Writes the wild and wildx counters to stderr, a few lines. */
NPK_API void npk_wild_print_stats(void);

/* When on, npk_wild_print_stats runs once at normal process exit. */
NPK_API void npk_wild_enable_stats_at_exit(bool enable);

/* ---------------------------------------------------------------------
 * WildXGuard: executable memory held by a struct.
 * ------------------------------------------------------------------- */
typedef enum {
    WILDX_STATE_UNINITIALIZED = 0,  /* a failed allocation */
    WILDX_STATE_WRITABLE = 1,       /* read+write, not executable */
    WILDX_STATE_EXECUTABLE = 2,     /* read+execute, never writable again */
    WILDX_STATE_FREED = 3           /* given back; ptr is NULL */
} WildXState;

typedef struct {
    void* ptr;           /* the page (page-aligned); NULL if none */
    size_t size;         /* its usable bytes, whole pages */
    size_t map_size;     /* what is mapped: size plus any guard pages */
    WildXState state;
    bool sealed;         /* true once npk_mem_protect_exec succeeded */
    uint64_t code_hash;  /* the FNV-1a hash taken at the seal; 0 before */
} WildXGuard;

/*
 * A fresh WRITABLE page of at least `size` bytes (whole pages), zero
 * filled, with guard pages if they are on. On failure (size 0, quota, the
 * OS) the guard is all zero: ptr NULL, state WILDX_STATE_UNINITIALIZED.
 */
NPK_API WildXGuard npk_alloc_exec(size_t size);

/*
 * WRITABLE -> EXECUTABLE, through the registry's seal: hash, instruction
 * cache flush, then read+execute. Fills in state, sealed and code_hash,
 * and makes the page known to the signature table and the tools as one
 * function of unknown signature (npk_jit_invoke refuses to guess one).
 * Returns 0, or -1 for NULL, a guard that is not WRITABLE, a page the
 * registry does not hold WRITABLE (a stale copy of a guard), or the OS
 * refusing; the page is then unchanged.
 */
NPK_API int npk_mem_protect_exec(WildXGuard* guard);

/*
 * Gives the page back and marks the guard FREED (ptr NULL). NULL, an
 * empty guard and a guard already FREED are ignored, so this is safe to
 * call twice. A stale copy of a guard whose page is already gone is
 * refused by the registry (reported, nothing unmapped) and marked FREED.
 */
NPK_API void npk_free_exec(WildXGuard* guard);

/*
 * Calls the sealed page as `void* fn(void* args)` and returns its result.
 * Returns NULL without calling when the guard is NULL or its page is not
 * EXECUTABLE in the registry, or on a host that cannot run generated
 * code.
 */
NPK_API void* npk_exec_jit(WildXGuard* guard, void* args);

/* ---------------------------------------------------------------------
 * Counters.
 * ------------------------------------------------------------------- */
typedef struct {
    size_t total_wild_allocated;   /* bytes of live wild blocks */
    size_t total_wildx_allocated;  /* usable bytes of live wildx pages */
    size_t num_wild_allocations;   /* live wild blocks */
    size_t num_wild_frees;         /* wild blocks given back with npk_free/npk_realloc */
    size_t num_wildx_allocations;  /* live wildx pages (the registry's) */
    size_t num_wildx_frees;        /* wildx pages freed (the registry's) */
    size_t peak_wild_usage;        /* largest total_wild_allocated seen */
    size_t peak_wildx_usage;       /* largest total_wildx_allocated seen */
} AllocatorStats;

/* A snapshot of the counters; NULL is ignored. The wildx half counts
 * every registry page, however it was made. */
NPK_API void npk_allocator_get_stats(AllocatorStats* stats);

/* ---------------------------------------------------------------------
 * WildX settings: the registry's, shared with <npk/wildx.h>.
 * ------------------------------------------------------------------- */

/* npk_wildx_set_guard_pages: an inaccessible page on either side of
 * every later wildx page. */
NPK_API void npk_wildx_enable_guard_pages(bool enable);

/* npk_wildx_set_audit: one stderr line per alloc, seal, free and
 * rejection. */
NPK_API void npk_wildx_enable_audit(bool enable);

/* The bound on the usable bytes of live wildx pages (default 64 MiB).
 * The same function as in <npk/wildx.h>: both headers declare it with
 * this one signature. */
NPK_API void npk_wildx_set_quota(size_t bytes);

/* The FNV-1a hash of the guard's page as it is now (all its usable
 * bytes, as the seal hashes them), to compare with code_hash. Returns 0
 * for NULL, an empty or freed guard, or a page the registry does not
 * hold. */
NPK_API uint64_t npk_wildx_verify_hash(WildXGuard* guard);

/* ---------------------------------------------------------------------
 * Pointer-keyed wildx pages: the functions of <npk/wildx.h>.
 * ------------------------------------------------------------------- */
NPK_API void* npk_wildx_alloc(size_t size);
NPK_API int32_t npk_wildx_seal(void* page);
NPK_API int32_t npk_wildx_free(void* page);

NPK_EXTERN_C_END

#endif /* NPK_UPSTREAM_RUNTIME_ALLOCATORS_H */
