// registry.h — the wildx state machine and its process-wide registry (private).
//
// The C ABI (api/wildx.cpp, api/jit.cpp) is a thin layer over these functions;
// each returns what the C function of the same name documents, and makes
// its errors through npk::fail() (core/errors.h).
#pragma once

#include <npk/wildx.h>

#include "core/config.h"

#include <cstddef>
#include <cstdint>

namespace npk::wildx {

void* alloc(size_t size);
// The hash seal records (and verify checks): FNV-1a 64 as npk/wildx.h
// promises for pages, XXH3-64 for a region's chunks (core/xxh3.h).
enum class HashKind : uint8_t { fnv1a64 = 0, xxh3_64 = 1 };
int32_t seal(void* page, HashKind kind = HashKind::fnv1a64);
int32_t free_page(void* page);

// The number of the live allocation starting at `page` (1-based, never
// reused), or 0 if none starts there. What an index of pages keeps beside
// an address, to tell its allocation from a later one at that address.
uint64_t id_of(const void* page);

// free_page, but only while `page` is still allocation `id` (not 0):
// returns 1, doing and reporting nothing, when it is not (the program
// unmapped it behind the registry's back; the address was forgotten or
// reused since).
int32_t free_allocation(void* page, uint64_t id);

// Copies `len` bytes of code to the start of a WRITABLE page. Done under
// the registry lock: no seal can hash or protect the page meanwhile.
int32_t write_code(void* page, const void* code, size_t len);

int32_t state(const void* page);
size_t size(const void* page);
int32_t code_hash(const void* page, uint64_t* out);
int32_t verify(const void* page);

// The check of NPK_WILDX_VERIFY=call before a checked call: 0 when the
// allocation at `page` (EXECUTABLE) hashes as at its seal, else -1 after
// reporting NPK_ERR_HASH_MISMATCH as a rejection of `op` (of `facility`).
int32_t verify_before_call(const void* page, int32_t facility, const char* op);

// Whether NPK_WILDX_VERIFY=call is on (inline: read on every checked call).
inline bool verify_calls() { return config::get_inline(config::verify_call) != 0; }
void get_stats(npk_wildx_stats* out);

// The checked call's slow path, taken when the lock-free test said no
// or NPK_WILDX_VERIFY=call is on: looks again under the lock (the page may
// have been sealed meanwhile) and returns if the page is EXECUTABLE (and,
// when verifying, hashes as at its seal); otherwise reports the page and
// why on stderr and aborts.
void require_executable(const void* page);

// Called, outside the lock, with the start of every allocation that goes
// away: freed (after it is FREEING, gone to every caller, and before it is
// unmapped), or unmapped by the program behind the registry's back (from
// the alloc whose fresh mapping reuses some of its addresses, before that
// alloc registers and returns its page). The code generator forgets the
// functions it held there (codegen/code_index.h), and with them their names
// and what the tools were told.
using FreeListener = void (*)(uintptr_t page);
void set_free_listener(FreeListener f);

// total_rejections += 1 (for fail()).
void count_rejection();

}  // namespace npk::wildx
