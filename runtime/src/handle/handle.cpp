// handle.cpp — the C ABI of npk/handle.h over the arena table.
//
// The table decides; this layer turns a refusal into the runtime's error
// (fail(): last status, message, stderr line, the facility's counter)
// once the table's lock is released.
#include <npk/handle.h>

#include "core/errors.h"
#include "handle/table.h"

#include <cinttypes>
#include <cstdio>

namespace {

// A handle prints in hex, where its fields can be read off.
npk::Subject of_handle(npk_handle_t h) { return npk::Subject::address(static_cast<uintptr_t>(static_cast<uint64_t>(h))); }

// Arena ids and sizes may be negative: they go in the detail, signed.
void reject(const char* op, npk::Subject subject, int32_t code, const char* detail = nullptr) {
    npk::handle::count_rejection();
    npk::fail(NPK_FACILITY_HANDLE, op, subject, code, detail);
}

}  // namespace

extern "C" {

NPK_API int64_t npk_handle_arena_create(void) {
    int64_t id = 0;
    const int32_t status = npk::handle::arena_create(&id);
    if (status == NPK_OK) return id;
    reject("arena_create", npk::Subject::none(), status);
    return 0;
}

NPK_API void npk_handle_arena_destroy(int64_t arena) {
    const int32_t status = npk::handle::arena_destroy(arena);
    if (status == NPK_OK) return;
    char detail[48];
    std::snprintf(detail, sizeof detail, "arena %" PRId64, arena);
    reject("arena_destroy", npk::Subject::none(), status, detail);
}

NPK_API npk_handle_t npk_handle_alloc(int64_t arena, int64_t size) {
    npk_handle_t h = NPK_HANDLE_NULL;
    const int32_t status = npk::handle::alloc(arena, size, &h);
    if (status == NPK_OK) return h;
    char detail[80];
    std::snprintf(detail, sizeof detail, "arena %" PRId64 ", size %" PRId64, arena, size);
    reject("alloc", npk::Subject::none(), status, detail);
    return NPK_HANDLE_NULL;
}

NPK_API void* npk_handle_deref(npk_handle_t h) {
    void* p = nullptr;
    const int32_t status = npk::handle::deref(h, &p);
    if (status == NPK_OK) return p;
    reject("deref", of_handle(h), status);
    return nullptr;
}

NPK_API void npk_handle_free(npk_handle_t h) {
    const int32_t status = npk::handle::free_block(h);
    if (status != NPK_OK) reject("free", of_handle(h), status);
}

NPK_API void npk_handle_get_stats(npk_handle_stats* out) {
    if (out != nullptr) npk::handle::get_stats(out);
}

}  // extern "C"
