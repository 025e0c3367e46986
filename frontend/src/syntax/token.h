// Tokens of the Nitpick subset (nitpick-subset.md §1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "diag/diag.h"

namespace npk {

enum class Tok : uint8_t {
    Eof,
    Ident,      // not a reserved word
    Int,        // integer literal (value and suffix in Token)
    String,     // string literal (decoded bytes in Token::str)

    // Punctuation and operators, longest match first.
    LParen, RParen, LBrace, RBrace, LBracket, RBracket,
    Comma, Semi, Colon, Dot,
    Assign, EqEq, NotEq, Lt, Le, Gt, Ge,
    Plus, Minus, Star, Slash, Percent, Bang, AndAnd, OrOr,
    Arrow,      // ->
    Question, Hash,
    At,         // @ (only in @cast)
    DollarI,    // $$i
    DollarM,    // $$m

    // Reserved words the subset's grammar uses.
    KwWild, KwWildx, KwStack, KwGc, KwFixed, KwConst,
    KwDefer, KwIf, KwElse, KwReturn, KwPass, KwFail, KwExit, KwRaw, KwDrop,
    KwFunc, KwStruct, KwType, KwImpl, KwUse, KwPub, KwExtern, KwAs, KwFor,
    KwTrue, KwFalse, KwNil, KwResult, KwBool,

    // A type word other than bool / Result: int8, uint32, tbb32, int128,
    // flt32, string, buffer, process, ... (Token::type says which).
    TypeWord,
    // Any other reserved word (while, NULL, await, ...): never a name.
    Reserved,
};

// What a TypeWord names.
enum class TypeWordKind : uint8_t { None, Int, UInt, Tbb, Other };

struct Token {
    Tok kind = Tok::Eof;
    Loc loc;
    std::string_view text;   // the token's bytes in the source text

    // Int: the magnitude, and the suffix if any. `overflow` is set when
    // the digits do not fit in 64 bits (already reported by the lexer).
    uint64_t value = 0;
    bool overflow = false;
    bool has_suffix = false;
    bool suffix_signed = true;
    bool suffix_tbb = false;
    uint32_t suffix_bits = 0;
    bool bad = false;        // malformed literal, already reported

    // String: the decoded bytes.
    std::string str;

    // TypeWord: the family and width (int8 → Int, 8).
    TypeWordKind type = TypeWordKind::None;
    uint32_t bits = 0;
};

// A short human name of a token kind, for messages ("';'", "identifier").
const char* tok_name(Tok k);

// How a token appears in "found X" messages: its text in quotes, or
// "end of file".
std::string tok_describe(const Token& t);

}  // namespace npk
