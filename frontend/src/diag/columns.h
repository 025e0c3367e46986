// Columns as a reader sees them. A diagnostic's column counts display
// columns the way GCC does (-fdiagnostics-column-unit=display, the
// default since GCC 11): a tab advances to the next multiple of 8, a
// character of the East Asian wide ranges (CJK, Hangul, fullwidth forms,
// most emoji) takes 2, a combining mark 0, any other code point 1. Bytes
// that are no UTF-8 count 1 each (npk refuses such files, but the
// columns of its own messages must not depend on that).
#pragma once

#include <cstdint>
#include <string_view>

namespace npk {

constexpr uint32_t kTabStop = 8;

// The column (from 1) just after `text`, which starts at column `col`.
uint32_t advance_column(uint32_t col, std::string_view text);

// Display width of one code point: 0, 1 or 2.
uint32_t codepoint_width(uint32_t cp);

// Decodes the code point at text[i] and moves i past it (one byte, as
// U+FFFD, if it is not well-formed UTF-8).
uint32_t next_codepoint(std::string_view text, size_t& i);

}  // namespace npk
