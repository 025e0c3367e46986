// wildx.cpp — the C ABI of the wildx heap (npk/wildx.h). Exceptions never
// cross it: the runtime is built without them, and its tables come from
// calloc (a failure is a value, never a throw).
#include <npk/wildx.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/fnv.h"
#include "core/registry.h"

extern "C" {

void* npk_wildx_alloc(size_t size) { return npk::wildx::alloc(size); }
int32_t npk_wildx_seal(void* page) { return npk::wildx::seal(page); }
int32_t npk_wildx_free(void* page) { return npk::wildx::free_page(page); }
int32_t npk_wildx_state(const void* page) { return npk::wildx::state(page); }
size_t npk_wildx_size(const void* page) { return npk::wildx::size(page); }
uint64_t npk_wildx_id(const void* page) { return npk::wildx::id_of(page); }
int32_t npk_wildx_code_hash(const void* page, uint64_t* out) { return npk::wildx::code_hash(page, out); }
int32_t npk_wildx_verify(const void* page) { return npk::wildx::verify(page); }
uint64_t npk_wildx_fnv1a64(const void* data, size_t len) { return npk::fnv1a64(data, len); }

void npk_wildx_set_quota(size_t bytes) { npk::config::set(npk::config::quota, bytes); }
size_t npk_wildx_quota(void) { return npk::config::get(npk::config::quota); }
void npk_wildx_get_stats(npk_wildx_stats* out) { npk::wildx::get_stats(out); }

int32_t npk_wildx_last_error(void) { return npk::last_error(); }
const char* npk_wildx_error_string(int32_t code) { return npk::status_string(code); }

void npk_wildx_set_audit(int32_t on) { npk::config::set(npk::config::audit, on != 0); }
void npk_wildx_set_guard_pages(int32_t on) { npk::config::set(npk::config::guard_pages, on != 0); }
void npk_wildx_set_quiet(int32_t quiet) { npk::config::set(npk::config::quiet, quiet != 0); }

}  // extern "C"
