/*
 * npk/handle.h — generation-checked handles into arenas (C ABI).
 *
 * A handle names a heap block by arena, slot and generation instead of by
 * address, so a handle that outlives its block is caught at the point of
 * use: it dereferences to NULL, never to memory that was freed or reused.
 * stdlib/handle.npk wraps these functions as Type:HandleArena, and the
 * Nitpick compiler lowers the same calls to these symbols; the names never
 * change.
 *
 * A handle is an int64 (npk_handle_t) with three fields:
 *
 *     bit 63            32 31        16 15          0
 *        [ generation:32  | arena:16    | slot:16    ]
 *
 * Generations start at 1, so no live handle is 0 (NPK_HANDLE_NULL). A
 * slot's generation grows by one each time its block is freed; a handle
 * whose generation differs from its slot's is stale. Arena ids (1..65535)
 * are reused after npk_handle_arena_destroy, but the slots of the new
 * arena start above every generation the old one handed out, so a handle
 * into a destroyed arena stays dead even when its id lives again. A slot
 * or arena id whose generations run out is retired, never wrapped.
 *
 * Ownership: the caller owns each arena from npk_handle_arena_create
 * until npk_handle_arena_destroy, and each block from npk_handle_alloc
 * until npk_handle_free or the destruction of its arena. The memory
 * belongs to the arena: never pass a dereferenced pointer to free().
 *
 * Threads: every function is thread-safe; the arena table sits behind
 * one process-wide lock. A pointer returned by npk_handle_deref stays
 * valid until its handle is freed or its arena destroyed; a thread that
 * frees while another still uses the pointer races, as with free().
 *
 * Errors are values (npk/status.h): a failing call returns 0 / NULL (or,
 * for the two void functions, just does nothing), sets the thread's last
 * status (npk_last_error) to one of the codes below or a general one, is
 * counted for NPK_FACILITY_HANDLE, and writes one stderr line unless the
 * runtime is quiet, e.g.
 *     handle: deref(0x0000000200010000) rejected: stale handle
 */
#ifndef NPK_HANDLE_H
#define NPK_HANDLE_H

#include <npk/api.h>
#include <npk/status.h>

NPK_EXTERN_C_BEGIN

typedef int64_t npk_handle_t;

/* The handle no allocation ever returns; also the failure value. */
#define NPK_HANDLE_NULL ((npk_handle_t)0)

/* ---------------------------------------------------------------------
 * Arenas.
 * ------------------------------------------------------------------- */

/*
 * Makes an empty arena. Returns its id, in 1..65535; 0 on failure with
 * the last status NPK_ERR_HANDLE_ARENAS_EXHAUSTED (65535 arenas are
 * alive, or every free id is retired) or NPK_ERR_OUT_OF_MEMORY.
 */
NPK_API int64_t npk_handle_arena_create(void);

/*
 * Frees every block of the arena and retires the arena: from now on
 * every handle into it dereferences to NULL and frees nothing, and the
 * id may be handed out again by npk_handle_arena_create.
 *
 * An id that names no live arena (0, out of range, never created,
 * already destroyed) changes nothing and sets the last status to
 * NPK_ERR_HANDLE_NO_ARENA.
 */
NPK_API void npk_handle_arena_destroy(int64_t arena);

/* ---------------------------------------------------------------------
 * Handles.
 * ------------------------------------------------------------------- */

/*
 * Allocates a zero-filled block of `size` bytes in `arena` and returns a
 * handle to it, valid until npk_handle_free or the arena's destruction.
 *
 * Returns NPK_HANDLE_NULL, with nothing allocated, when `arena` names no
 * live arena (NPK_ERR_HANDLE_NO_ARENA), `size` is 0 (NPK_ERR_ZERO_SIZE)
 * or negative (NPK_ERR_INVALID_ARGUMENT), the arena holds 65536 blocks
 * or all its free slots are retired (NPK_ERR_HANDLE_ARENA_FULL), or
 * memory runs out (NPK_ERR_OUT_OF_MEMORY; always for sizes over 2^40).
 */
NPK_API npk_handle_t npk_handle_alloc(int64_t arena, int64_t size);

/*
 * The address of the block `h` names, or NULL when it names none:
 * NPK_HANDLE_NULL (NPK_ERR_NULL), a handle whose arena was destroyed or
 * never existed (NPK_ERR_HANDLE_NO_ARENA), a handle whose block was freed
 * (NPK_ERR_HANDLE_STALE), or a value no allocation returned
 * (NPK_ERR_HANDLE_MALFORMED). The block holds the `size` bytes asked for.
 */
NPK_API void* npk_handle_deref(npk_handle_t h);

/*
 * Frees the block `h` names and makes every copy of `h` stale. A handle
 * that names no block (the cases of npk_handle_deref) frees nothing and
 * sets the same last status: a double free is reported, never performed.
 */
NPK_API void npk_handle_free(npk_handle_t h);

/* ---------------------------------------------------------------------
 * Statistics.
 * ------------------------------------------------------------------- */

typedef struct npk_handle_stats {
    uint64_t live_arenas;          /* created and not yet destroyed */
    uint64_t live_handles;         /* blocks allocated and not yet freed */
    uint64_t live_bytes;           /* their requested sizes */
    uint64_t total_arena_creates;  /* successful npk_handle_arena_create */
    uint64_t total_arena_destroys; /* successful npk_handle_arena_destroy */
    uint64_t total_allocs;         /* successful npk_handle_alloc */
    uint64_t total_frees;          /* blocks freed, one by one or by a destroy */
    uint64_t total_rejections;     /* calls that failed */
} npk_handle_stats;

/* Fills *out with a consistent snapshot of the counters (nothing if NULL). */
NPK_API void npk_handle_get_stats(npk_handle_stats* out);

NPK_EXTERN_C_END

#endif /* NPK_HANDLE_H */
