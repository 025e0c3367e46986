// guard.cpp — WildXGuard (runtime/allocators.h): a wildx registry page
// described by a struct the caller keeps.
//
// The struct is a view; the registry is the truth. Every operation asks
// the registry about guard->ptr, so a stale copy of a guard (sealed or
// freed through another copy) is refused by the same checks that refuse
// any wrong pointer, with the registry's message.
#include "upstream/guard.h"

#include <npk/status.h>

#include "arch/arch.h"
#include "arch/call_saved.h"
#include "codegen/region.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/registry.h"
#include "os/os.h"

namespace npk::upstream {

WildXGuard alloc_guard(size_t size) {
    WildXGuard g{};
    // Read before the alloc: the registry decides guard pages the same way,
    // from the same setting, in the call below.
    const bool guarded = config::get(config::guard_pages) != 0;
    void* page = wildx::alloc(size);
    if (page == nullptr) return g;
    g.ptr = page;
    g.size = wildx::size(page);
    g.map_size = g.size + (guarded ? 2 * os::page_size() : 0);
    g.state = WILDX_STATE_WRITABLE;
    return g;
}

int32_t seal_guard(WildXGuard* g, const char* op, codegen::Sig sig, size_t code_len) {
    if (g == nullptr) return fail(NPK_FACILITY_WILDX, op, Subject::none(), NPK_ERR_NULL, "the guard is NULL");
    if (g->ptr == nullptr || g->state != WILDX_STATE_WRITABLE) {
        return fail(NPK_FACILITY_WILDX, op, Subject::pointer(g->ptr),
                    g->state == WILDX_STATE_EXECUTABLE ? NPK_ERR_SEALED
                    : g->state == WILDX_STATE_FREED    ? NPK_ERR_FREED
                                                       : NPK_ERR_NULL,
                    "the guard is not WRITABLE");
    }
    if (wildx::seal(g->ptr) != 0) return -1;  // the registry said why (a stale copy, the OS)
    g->state = WILDX_STATE_EXECUTABLE;
    g->sealed = true;
    uint64_t h = 0;
    if (wildx::code_hash(g->ptr, &h) == 0) g->code_hash = h;
    if (!codegen::publish_alone(g->ptr, code_len, sig, "", op)) return -1;
    return 0;
}

bool callable(const WildXGuard* g, const char* op) {
    if (!arch::kCanRunCode || arch::kCpu != arch::Cpu::x86_64) {
        fail(NPK_FACILITY_JIT, op, Subject::none(), NPK_ERR_UNSUPPORTED_HOST, "the code is x86-64");
        return false;
    }
    if (g == nullptr || g->ptr == nullptr) {
        fail(NPK_FACILITY_JIT, op, Subject::none(), NPK_ERR_NULL, "no guard, or an empty one");
        return false;
    }
    if (wildx::state(g->ptr) != NPK_WILDX_EXECUTABLE) {
        fail(NPK_FACILITY_JIT, op, Subject::pointer(g->ptr), NPK_ERR_NOT_EXECUTABLE,
             wildx::state(g->ptr) == NPK_WILDX_WRITABLE ? "the page is WRITABLE: seal it first"
                                                        : "the page is not live");
        return false;
    }
    return true;
}

}  // namespace npk::upstream

using namespace npk::upstream;

extern "C" {

WildXGuard npk_alloc_exec(size_t size) { return alloc_guard(size); }

int npk_mem_protect_exec(WildXGuard* guard) {
    // Nobody said what the bytes are: the whole page is the function.
    return seal_guard(guard, "npk_mem_protect_exec", kUnknownSig, guard != nullptr ? guard->size : 0);
}

void npk_free_exec(WildXGuard* guard) {
    if (guard == nullptr || guard->ptr == nullptr || guard->state == WILDX_STATE_FREED) return;
    // A sealed guard knows its hash: a copy whose page is gone, and whose
    // address now holds another page, must not free that one.
    uint64_t h = 0;
    if (guard->sealed && (npk::wildx::state(guard->ptr) != NPK_WILDX_EXECUTABLE ||
                          npk::wildx::code_hash(guard->ptr, &h) != 0 || h != guard->code_hash)) {
        npk::fail(NPK_FACILITY_WILDX, "npk_free_exec", npk::Subject::pointer(guard->ptr), NPK_ERR_FREED,
                  "a stale copy of a guard: its page was freed through another copy");
    } else {
        npk::wildx::free_page(guard->ptr);  // a stale WRITABLE copy: refused and reported there
    }
    guard->ptr = nullptr;
    guard->state = WILDX_STATE_FREED;
    guard->sealed = false;
}

void* npk_exec_jit(WildXGuard* guard, void* args) {
    if (!callable(guard, "npk_exec_jit")) return nullptr;
    const int64_t r = npk::arch::call_saving_i64(guard->ptr, reinterpret_cast<intptr_t>(args), 0);
    return reinterpret_cast<void*>(static_cast<intptr_t>(r));
}

void npk_wildx_enable_guard_pages(bool enable) { npk_wildx_set_guard_pages(enable ? 1 : 0); }

void npk_wildx_enable_audit(bool enable) { npk_wildx_set_audit(enable ? 1 : 0); }

uint64_t npk_wildx_verify_hash(WildXGuard* guard) {
    if (guard == nullptr || guard->ptr == nullptr || guard->state == WILDX_STATE_FREED) return 0;
    const void* page = guard->ptr;
    const size_t n = npk::wildx::size(page);
    if (n == 0) return 0;  // not a live page of the registry
    return npk_wildx_fnv1a64(page, n);
}

}  // extern "C"
