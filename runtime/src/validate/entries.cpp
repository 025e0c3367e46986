// entries.cpp — see entries.h.
#include "validate/entries.h"

#include <npk/wildx.h>

#include "codegen/code_index.h"
#include "core/registry.h"

namespace npk::validate {

bool known_function_entry(uint64_t address) {
    const void* p = reinterpret_cast<const void*>(static_cast<uintptr_t>(address));
    // A function the signature table knows: built, from npk_jit_build_bytes,
    // or one of a sealed region's (its entries lie inside a chunk).
    codegen::Sig sig;
    if (codegen::lookup(p, &sig)) return true;
    // wildx::state reads an interior pointer as unknown: only a page's start counts.
    return wildx::state(p) == NPK_WILDX_EXECUTABLE;
}

}  // namespace npk::validate
