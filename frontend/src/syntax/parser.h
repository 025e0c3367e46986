// The parser (nitpick-subset.md §2): one loaded file → one ast::Module.
//
// Recursive descent, one function per grammar rule. Every Expr and Stmt
// gets its id from Program::next_id. Syntax errors go to Diagnostics;
// the parser then resynchronises (at ';', '}' and item keywords) and
// goes on, so one run reports every independent error of the file.
#pragma once

#include <cstdint>

#include "syntax/ast.h"
#include "diag/diag.h"

namespace npk {

// Deepest nesting of blocks, parentheses, prefix operators and types
// the parser accepts; deeper input is an error ("nesting too deep"),
// never a stack overflow.
constexpr uint32_t kMaxNesting = 256;
// Tallest expression tree (e.g. a chain of 2000 '+') the parser builds,
// so that every later phase can walk trees recursively.
constexpr uint32_t kMaxExprHeight = 1024;
// Longest `if ... else if ...` ladder (arms), for the same reason: a
// ladder is one level of nesting, but a chain of If nodes to walk.
constexpr uint32_t kMaxIfArms = 1024;
// Syntax errors reported per file before the parser gives up on it.
constexpr uint32_t kMaxSyntaxErrors = 50;

// Lexes and parses `file` into `mod` (mod.file and, if empty, mod.path
// are set here). Returns false if any lexical or syntax error was
// reported for this file.
bool parse_module(const SourceManager& sources, uint32_t file, ast::Program& prog,
                  ast::Module& mod, Diagnostics& diag);

}  // namespace npk
