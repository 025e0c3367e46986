// The `use` loader (nitpick-subset.md §3) and the file reading behind
// it. load_program() itself is declared in phases.h; this header adds
// what the command line and the fuzz targets need besides it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "syntax/ast.h"
#include "diag/diag.h"
#include "phases.h"

namespace npk {

// Source files larger than this are refused: no real program comes
// close, and the syntax tree of a file takes about 40 times its size.
constexpr size_t kMaxSourceBytes = 16u << 20;

enum class ReadStatus {
    Ok,
    NotFound,     // no such file
    NotAFile,     // a directory, FIFO, device, ...
    TooLarge,     // over kMaxSourceBytes
    Unreadable,   // open or read failed (permissions, I/O error)
};

// Reads a whole source file. On failure `error` is one human sentence
// ("No such file or directory", "Is a directory", ...).
ReadStatus read_source_file(const std::string& path, std::string& text, std::string& error);

// Byte offset of the first byte of `s` that is not well-formed UTF-8
// (overlong forms, surrogates and code points above U+10FFFF included),
// or std::string_view::npos if all of it is.
size_t find_invalid_utf8(std::string_view s);

// load_program with the root file's text already read (by the caller,
// which reports I/O errors its own way). `root_path` names the file in
// messages and anchors its `use` resolution.
bool load_program_text(const std::string& root_path, std::string text, const Options& opts,
                       SourceManager& sources, ast::Program& out, Diagnostics& diag);

}  // namespace npk
