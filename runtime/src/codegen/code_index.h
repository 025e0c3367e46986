// code_index.h — the signature table: which built functions are live and
// callable, and their signatures, found without a lock (private).
//
// Every sealed allocation that holds built code (one function from
// npk_jit_build, or a region's chunk of many) has one CodeIndex: its
// entry offsets, sorted, each with its signature. An index is published
// for every page of its allocation only once the allocation is
// EXECUTABLE, and forgotten (unpublished, then freed) when the
// allocation is freed, before it is unmapped: the registry calls
// forget() for every page it frees. So a published entry is always the
// start of a live EXECUTABLE function.
//
// Readers (invoke, signature) take no lock: three dependent acquire
// loads find the index, a binary search the entry. Writers hold one
// mutex. Table nodes are never freed, so a reader never touches freed
// table memory; an index freed while a reader still uses it is the
// caller's use-after-free (a function freed while being invoked).
#pragma once

#include "codegen/program.h"

#include <cstddef>
#include <cstdint>

namespace npk::codegen {

struct Entry {
    uint32_t offset;  // from the allocation's start
    Sig sig;
};

struct CodeIndex {
    uintptr_t base;  // the wildx allocation's start
    size_t span;     // its usable bytes (whole pages)
    uint32_t count;
    Entry* entries;  // sorted by offset; malloc'd, owned
    // Per entry, its name (tools/tools.h), or nullptr for jit_fn_<address>;
    // the array is nullptr when no function is named. malloc'd, owned.
    char** names = nullptr;
    // Where the last function's code ends, from base (set before publish):
    // a function's bytes run to the next entry's offset, or to here.
    size_t end = 0;
};

// Takes ownership of `entries` (malloc'd, sorted by offset).
CodeIndex* make_index(uintptr_t base, size_t span, Entry* entries, uint32_t count);
void free_index(CodeIndex* idx);

// Publishes `idx` for every page of its allocation, which must be
// EXECUTABLE. Returns false (nothing published) if a table node could not
// be allocated.
bool publish(CodeIndex* idx);

// The registry's free listener: unpublishes and frees the index of the
// allocation starting at `base`, if it has one.
void forget(uintptr_t base);

// The signature of the live function starting exactly at `fn`, its name
// if `name` is given (nullptr: the default name; it lives as long as the
// function), the start of its allocation if `base` is given, and if `span`
// is given, its bytes up to the next function's start (the fill between
// them included) or the code's end.
bool lookup(const void* fn, Sig* out, const char** name = nullptr, uintptr_t* base = nullptr,
            size_t* span = nullptr);

// Tells the tools (tools/tools.h) of the functions of a just-published
// index; `end` is where the last function's code ends, from idx->base.
void announce(const CodeIndex* idx, size_t end);

}  // namespace npk::codegen
