// entries.h — the validator's hook for "the entry of a function the
// runtime knows" (private): a direct branch may leave the code for one.
#pragma once

#include <cstdint>

namespace npk::validate {

// Whether `address` starts a live function that may be called: an entry
// of the code generator's signature table (a function of npk_jit_build or
// npk_jit_build_bytes, or of a sealed region, codegen/code_index.h), or
// the start of a live EXECUTABLE wildx page (code installed by hand).
// Thread-safe; takes the registry lock, so never call it holding that.
bool known_function_entry(uint64_t address);

}  // namespace npk::validate
