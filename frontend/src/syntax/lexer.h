// The lexer (nitpick-subset.md §1): bytes of one loaded file → tokens.
//
// Lexical errors go to Diagnostics with their position and the lexer
// keeps going, so one run reports every bad character, literal and
// comment of the file. After kMaxLexErrors it stops (one more error says
// so) and returns Eof: a binary file must not print a million lines.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "diag/diag.h"
#include "syntax/token.h"

namespace npk {

class Lexer {
public:
    static constexpr uint32_t kMaxLexErrors = 50;

    Lexer(const SourceManager& sources, uint32_t file, Diagnostics& diag);

    // The next token; Eof forever after the end of the text.
    Token next();

    uint32_t error_count() const { return errors_; }

private:
    void skip_space_and_comments();
    Token make(Tok kind, uint32_t begin);
    Token lex_number(uint32_t begin);
    Token lex_string(uint32_t begin);
    Token lex_word(uint32_t begin);
    void error_at(uint32_t offset, std::string message);
    Loc loc_of(uint32_t offset) const;
    char peek(uint32_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    bool at_end() const { return pos_ >= text_.size(); }
    // Consumes one byte, keeping the line bookkeeping.
    void bump();

    const SourceManager& sources_;
    uint32_t file_;
    Diagnostics& diag_;
    std::string_view text_;
    uint32_t pos_ = 0;
    uint32_t line_ = 1;
    uint32_t line_start_ = 0;
    uint32_t errors_ = 0;
    bool gave_up_ = false;
    // loc_of's display-column cache: column col_ is at byte col_offset_
    // of the line starting at col_line_start_.
    mutable uint32_t col_line_start_ = UINT32_MAX;
    mutable uint32_t col_offset_ = 0;
    mutable uint32_t col_ = 1;
};

// Every token of `file`, ending with one Eof.
std::vector<Token> lex_file(const SourceManager& sources, uint32_t file, Diagnostics& diag);

// Reserved-word lookup: the kind `word` lexes as (Ident if not reserved),
// and for type words their family and width.
Tok keyword_kind(std::string_view word, TypeWordKind* type = nullptr, uint32_t* bits = nullptr);

}  // namespace npk
