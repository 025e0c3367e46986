// registry.h — the wildx state machine and its process-wide registry (private).
//
// The C ABI (api/wildx.cpp, api/jit.cpp) is a thin layer over these functions;
// each returns what the C function of the same name documents, and makes
// its errors through npk::fail() (core/errors.h).
#pragma once

#include <npk/wildx.h>

#include <cstddef>
#include <cstdint>

namespace npk::wildx {

void* alloc(size_t size);
// The hash seal records (and verify checks): FNV-1a 64 as npk/wildx.h
// promises for pages, XXH3-64 for a region's chunks (core/xxh3.h).
enum class HashKind : uint8_t { fnv1a64 = 0, xxh3_64 = 1 };
int32_t seal(void* page, HashKind kind = HashKind::fnv1a64);
int32_t free_page(void* page);

// Copies `len` bytes of code to the start of a WRITABLE page. Done under
// the registry lock: no seal can hash or protect the page meanwhile.
int32_t write_code(void* page, const void* code, size_t len);

int32_t state(const void* page);
size_t size(const void* page);
int32_t code_hash(const void* page, uint64_t* out);
int32_t verify(const void* page);
void get_stats(npk_wildx_stats* out);

// The checked call's slow path, taken when the lock-free test said no:
// looks again under the lock (the page may have been sealed meanwhile) and
// returns if the page is EXECUTABLE; otherwise reports the page and its
// state on stderr and aborts.
void require_executable(const void* page);

// Called with the start of every allocation being freed, after it is
// FREEING (gone to every caller) and before it is unmapped, outside the
// lock: the code generator forgets the functions it held (codegen/code_index.h).
using FreeListener = void (*)(uintptr_t page);
void set_free_listener(FreeListener f);

// total_rejections += 1 (for fail()).
void count_rejection();

}  // namespace npk::wildx
