// entries.h — the validator's hook for "the entry of a function the
// runtime knows" (private): a direct branch may leave the code for one.
#pragma once

#include <cstdint>

namespace npk::validate {

// Whether `address` starts a live function that may be called. Until the
// code generator's signature table is on main, a function is a live
// EXECUTABLE wildx page and its entry the page's start; with it, this is
// where codegen::lookup (an entry of a published CodeIndex) answers.
// Thread-safe; takes the registry lock, so never call it holding that.
bool known_function_entry(uint64_t address);

}  // namespace npk::validate
