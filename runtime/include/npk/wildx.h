/*
 * npk/wildx.h — the wildx W^X page heap of the Nitpick runtime (C ABI).
 *
 * A wildx page goes through one state machine, in one direction only:
 *
 *     npk_wildx_alloc         npk_wildx_seal            npk_wildx_free
 *   ──────────────▶ WRITABLE ────────────────▶ EXECUTABLE ──────────────▶ (gone)
 *                      │                                                   ▲
 *                      └───────────────── npk_wildx_free ──────────────────┘
 *
 * WRITABLE pages are mapped read+write, EXECUTABLE pages read+execute.
 * No page is ever writable and executable at the same moment, no page is
 * mapped twice, and a sealed page never becomes writable again.
 *
 * Ownership: the caller owns every page npk_wildx_alloc returns until it
 * passes it to npk_wildx_free. The registry is process-wide and every
 * function here is thread-safe. A child of fork() inherits every page
 * in its state and can use the heap at once, even if other threads of
 * the parent were inside it (the runtime's fork handlers let operations
 * in flight finish first).
 *
 * A page the program unmaps itself (munmap) is not the runtime's to
 * notice until the kernel hands its addresses out again: the next
 * npk_wildx_alloc that gets some of them writes one line, e.g.
 *     wildx: page 0x7f3a1c000000 (16384 bytes, allocation 7) was unmapped
 *     behind the runtime's back (in whole or in part); the registry forgets it
 * (even when quiet), drops the page from the registry and the live
 * counts (what is left of its mapping is leaked), and succeeds. The old
 * pointer then reads as foreign: it can never seal, free or call the new
 * page.
 *
 * Errors are values: functions return NULL or -1 on failure, set the
 * thread's last status and message (npk_last_error and
 * npk_last_error_message in npk/status.h) and, unless NPK_WILDX_QUIET=1
 * is set in the environment, write that message to stderr as one line:
 *     wildx: seal(0x7f3a1c000000) rejected: already sealed
 *
 * The symbol names npk_wildx_alloc, npk_wildx_seal and npk_wildx_free
 * are the ones the Nitpick compiler lowers wildx_alloc / wildx_seal /
 * wildx_free to; they never change.
 */
#ifndef NPK_WILDX_H
#define NPK_WILDX_H

#include <npk/api.h>
#include <npk/status.h>

NPK_EXTERN_C_BEGIN

/* ---------------------------------------------------------------------
 * States, as npk_wildx_state reports them.
 * ------------------------------------------------------------------- */
enum {
    NPK_WILDX_UNKNOWN    = 0, /* never allocated, freed, foreign or interior */
    NPK_WILDX_WRITABLE   = 1, /* read+write, not executable */
    NPK_WILDX_EXECUTABLE = 2  /* read+execute, never writable again */
};

/*
 * Errors: the NPK_ERR_* codes of npk/status.h, also spelled
 * NPK_WILDX_ERR_* there. What they mean for the heap:
 *   NPK_ERR_INTERIOR        inside a live page, not its start
 *   NPK_ERR_FREED           recently freed (the last 1024 frees; older
 *                           ones read as NPK_ERR_NOT_WILDX)
 *   NPK_ERR_NOT_WRITABLE    an install into a sealed page
 *   NPK_ERR_NOT_EXECUTABLE  a call or hash of a page not sealed
 *   NPK_ERR_UNSUPPORTED_HOST no code generator for this CPU
 *   NPK_ERR_INVALID_ARGUMENT e.g. a NULL out-parameter
 *   NPK_ERR_HASH_MISMATCH   npk_wildx_verify found the code changed
 */

/* ---------------------------------------------------------------------
 * The heap.
 * ------------------------------------------------------------------- */

/*
 * Maps a fresh, zero-filled, page-aligned region of at least `size`
 * bytes (rounded up to whole pages), read+write and not executable, and
 * registers it WRITABLE. With guard pages on (npk_wildx_set_guard_pages)
 * an inaccessible page sits right before and right after it.
 *
 * Returns the start of the region, owned by the caller until
 * npk_wildx_free. Returns NULL, with the last error set, when `size` is 0
 * (NPK_WILDX_ERR_ZERO_SIZE), when the live bytes would exceed the quota
 * (NPK_WILDX_ERR_QUOTA), or when the OS refuses the mapping
 * (NPK_WILDX_ERR_OS). A NULL return changes no state and no counter
 * other than total_rejections.
 */
NPK_API void* npk_wildx_alloc(size_t size);

/*
 * WRITABLE → EXECUTABLE. In this order: records the FNV-1a 64-bit hash
 * of every usable byte of the page (its page-rounded size), flushes the
 * instruction cache where the host needs it, then maps the page
 * read+execute. From then on the page can be called and never written.
 *
 * Returns 0 on success. Returns -1 for NULL, a foreign pointer, an
 * interior pointer, a freed page, an already sealed page, or when the OS
 * refuses the protection change; in that last case the page stays
 * WRITABLE, unchanged and freeable.
 */
NPK_API int32_t npk_wildx_seal(void* page);

/*
 * Unmaps the page (and its guard pages) and unregisters it, whatever
 * its state. The pointer is dangling afterwards.
 *
 * Returns 0 on success; -1 for NULL, a foreign pointer, an interior
 * pointer or a page already freed. If the OS refuses the unmap the page
 * is unregistered all the same (it can never be used again), the
 * failure is reported on stderr and -1 is returned with
 * NPK_WILDX_ERR_OS: the mapping is never leaked silently.
 */
NPK_API int32_t npk_wildx_free(void* page);

/* The state of `page` (an NPK_WILDX_* state). Never fails. */
NPK_API int32_t npk_wildx_state(const void* page);

/* The usable, page-rounded size of a live page; 0 if not a live page. */
NPK_API size_t npk_wildx_size(const void* page);

/*
 * The allocation number of the live page starting at `page`: 1 for the
 * process's first allocation, one more for each later one, never reused;
 * 0 if no live page starts there. Never fails. An address says which page
 * is there now; this number says whether it is still the one you were
 * given: a program that unmaps a page behind the runtime's back (munmap)
 * can make a later allocation reuse its address, and a table of pages
 * keyed by address (a run-time checker's, a cache of built code) tells
 * the two apart by keeping this number beside each address.
 */
NPK_API uint64_t npk_wildx_id(const void* page);

/*
 * Stores in *out the hash recorded when `page` was sealed: the FNV-1a 64
 * of its usable bytes (npk_wildx_fnv1a64) for every page from
 * npk_wildx_alloc and npk_jit_build; for the allocations of a code region
 * (npk/jitbuild.h), which hold many functions, XXH3-64 (xxhash) of the
 * usable bytes. Returns 0, or -1 (out untouched) if `out` is NULL or
 * `page` is not a sealed page.
 */
NPK_API int32_t npk_wildx_code_hash(const void* page, uint64_t* out);

/*
 * Recomputes the hash of a sealed page (with the function it was sealed
 * with, see npk_wildx_code_hash) and compares it with the one recorded at
 * seal. Returns 0 if they match, -1 if they differ
 * (NPK_WILDX_ERR_HASH_MISMATCH) or `page` is not a sealed page.
 *
 * Verify on call: with NPK_WILDX_VERIFY=call in the environment (read at
 * start-up; off by default), every checked call re-hashes the code it is
 * about to run, the whole allocation, and refuses when it no longer
 * matches its seal: npk_jit_invoke (npk/jitbuild.h) returns -1 with
 * NPK_ERR_HASH_MISMATCH ("invoke(<allocation>) rejected: code changed
 * since seal (NPK_WILDX_VERIFY=call: ...)"), npk_jit_call_i32_i32
 * (npk/jit.h) writes "call(<page>) refused: ..." and aborts, as for a page
 * that is not sealed. A sealed page is read+execute, so only a program
 * that makes it writable behind the runtime's back (mprotect) can change
 * it. The cost grows with the allocation: a page from npk_jit_build is
 * 4 KiB; a region chunk up to 1 MiB (bench/run: the rows verify/invoke
 * and verify/call_i32_i32).
 */
NPK_API int32_t npk_wildx_verify(const void* page);

/*
 * The FNV-1a 64-bit hash (offset basis 0xcbf29ce484222325, prime
 * 0x100000001b3) of `len` bytes at `data`: the function seal uses, for
 * callers that want to compare against npk_wildx_code_hash.
 */
NPK_API uint64_t npk_wildx_fnv1a64(const void* data, size_t len);

/* ---------------------------------------------------------------------
 * Quota and statistics.
 * ------------------------------------------------------------------- */

/*
 * Bounds the live bytes (sum of page-rounded usable sizes; guard pages
 * are not counted). The default is 64 MiB, or the value of the
 * environment variable NPK_WILDX_QUOTA (bytes, decimal) read at the first
 * call into the heap; a malformed value, or one above SIZE_MAX, is
 * reported once on stderr (its bytes escaped, at most 64 shown) and
 * ignored. Lowering the quota below the live bytes frees nothing: later
 * allocations fail until enough pages are freed.
 */
NPK_API void   npk_wildx_set_quota(size_t bytes);
NPK_API size_t npk_wildx_quota(void);

typedef struct npk_wildx_stats {
    uint64_t live_pages;       /* pages allocated and not yet freed */
    uint64_t live_bytes;       /* their usable bytes */
    uint64_t peak_bytes;       /* the largest live_bytes seen */
    uint64_t total_allocs;     /* successful npk_wildx_alloc calls */
    uint64_t total_seals;      /* successful npk_wildx_seal calls */
    uint64_t total_frees;      /* successful npk_wildx_free calls */
    uint64_t total_rejections; /* calls that returned NULL or -1 */
} npk_wildx_stats;

/* Fills *out with a consistent snapshot of the counters. */
NPK_API void npk_wildx_get_stats(npk_wildx_stats* out);

/* ---------------------------------------------------------------------
 * Errors (the first release's names; npk/status.h has the general ones).
 * ------------------------------------------------------------------- */

/* The same as npk_last_error. */
NPK_API int32_t npk_wildx_last_error(void);

/* The same as npk_status_string. */
NPK_API const char* npk_wildx_error_string(int32_t code);

/* ---------------------------------------------------------------------
 * Audit and hardening switches (process-wide).
 * ------------------------------------------------------------------- */

/*
 * With audit on, every alloc, seal, free and rejection writes one line to
 * stderr with the address, size and (at seal) hash. Off by default;
 * NPK_WILDX_AUDIT=1 in the environment turns it on at start-up.
 */
NPK_API void npk_wildx_set_audit(int32_t on);

/*
 * With guard pages on, later allocations get an inaccessible page right
 * before and right after them, so an overrun faults. Off by default;
 * pages already allocated keep what they had.
 */
NPK_API void npk_wildx_set_guard_pages(int32_t on);

/* Rejection lines on stderr: on by default, off with NPK_WILDX_QUIET=1
 * in the environment or npk_wildx_set_quiet(1). Rate-limited per kind
 * (facility and status code): at most 10 lines of a kind per 5 seconds;
 * the next line of the kind after that, or the end of the process, says
 * how many were not shown ("handle: 990 more 'stale handle' rejection(s)
 * were not shown ..."). Every rejection still sets the last error and is
 * counted by npk_rejections; audit mode writes every line. */
NPK_API void npk_wildx_set_quiet(int32_t quiet);

/* ---------------------------------------------------------------------
 * The plain `wild` heap (what Nitpick's alloc / free lower to).
 * ------------------------------------------------------------------- */

/* A zero-filled heap block of `size` bytes, or NULL on failure or for
 * size 0. Never executable. */
NPK_API void* npk_alloc(size_t size);

/* Releases a block from npk_alloc. NULL is ignored. */
NPK_API void npk_free(void* block);

NPK_EXTERN_C_END

#endif /* NPK_WILDX_H */
