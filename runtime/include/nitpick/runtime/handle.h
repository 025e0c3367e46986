/*
 * runtime/handle.h — upstream Nitpick's spelling of the handle arenas
 * (include it as "runtime/handle.h" with -I<prefix>/include/nitpick).
 *
 * These are the very functions of <npk/handle.h>, declared again here
 * with the same types so that this directory stands alone; the full
 * contract (layout generation:32 | arena:16 | slot:16, stale handles,
 * arena id reuse) is written there. In short: a handle is valid from
 * npk_handle_alloc until npk_handle_free of it or the destruction of its
 * arena; after that, npk_handle_deref returns NULL for it forever, and a
 * free or destroy of something dead is a no-op that reports nothing
 * fatal.
 */
#ifndef NPK_UPSTREAM_RUNTIME_HANDLE_H
#define NPK_UPSTREAM_RUNTIME_HANDLE_H

#include "../../npk/api.h"

NPK_EXTERN_C_BEGIN

typedef int64_t npk_handle_t;

#define NPK_HANDLE_NULL ((npk_handle_t)0)

/* A new arena id (1..65535), or 0 if none is left. */
NPK_API int64_t npk_handle_arena_create(void);
/* Frees every block of the arena; its handles go stale. */
NPK_API void npk_handle_arena_destroy(int64_t arena);
/* A zero-filled block of `size` bytes in `arena`, or NPK_HANDLE_NULL. */
NPK_API npk_handle_t npk_handle_alloc(int64_t arena, int64_t size);
/* The block of a live handle; NULL for a stale, null or foreign one.
 * The arena owns the block: never free() it. */
NPK_API void* npk_handle_deref(npk_handle_t h);
/* Frees the block; every copy of `h` goes stale. */
NPK_API void npk_handle_free(npk_handle_t h);

NPK_EXTERN_C_END

#endif /* NPK_UPSTREAM_RUNTIME_HANDLE_H */
