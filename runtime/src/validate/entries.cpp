// entries.cpp — see entries.h.
#include "validate/entries.h"

#include <npk/wildx.h>

#include "core/registry.h"

namespace npk::validate {

bool known_function_entry(uint64_t address) {
    // wildx::state reads an interior pointer as unknown: only a page's start counts.
    return wildx::state(reinterpret_cast<const void*>(static_cast<uintptr_t>(address))) == NPK_WILDX_EXECUTABLE;
}

}  // namespace npk::validate
