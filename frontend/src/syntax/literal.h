// Whether an integer literal fits an integer type. Decided here and
// nowhere else: the parser asks it for suffixed literals (`300i8`), the
// type checker for literals typed by their context (`int8:v = 200;`),
// and both report a misfit with the one message below.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace npk {

enum class IntFamily : uint8_t { Int, UInt, Tbb };

// `magnitude` as written; `negative` when a unary minus applies to it
// (`-129i8`). tbb ranges are symmetric: their minimum is the ERR
// sentinel, which no literal can spell. Widths above 64 bits hold every
// magnitude (the checker rejects those types on their own).
bool int_literal_fits(uint64_t magnitude, bool negative, IntFamily family, uint32_t bits);

// "int8", "uint16", "tbb32".
std::string int_type_name(IntFamily family, uint32_t bits);

// "Integer literal 300i8 does not fit in int8 (-128 to 127)": `written`
// is the literal as the source spells it, its minus sign included.
std::string int_literal_misfit(std::string_view written, IntFamily family, uint32_t bits);

}  // namespace npk
