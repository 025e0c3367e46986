#include "syntax/lexer.h"

#include "diag/columns.h"

#include <array>
#include <cstdio>
#include <string>
#include <unordered_map>

namespace npk {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
uint32_t hex_value(char c) {
    if (is_digit(c)) return static_cast<uint32_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
    return static_cast<uint32_t>(c - 'A' + 10);
}

// Widths upstream spells for intN / uintN types and iN / uN suffixes.
constexpr std::array<uint32_t, 13> kIntWidths = {1, 2, 4, 8, 16, 32, 64, 128,
                                                 256, 512, 1024, 2048, 4096};
constexpr std::array<uint32_t, 4> kTbbWidths = {8, 16, 32, 64};

// `s` as a decimal width from `widths`, or 0.
template <size_t N>
uint32_t parse_width(std::string_view s, const std::array<uint32_t, N>& widths) {
    if (s.empty() || s.size() > 4 || s[0] == '0') return 0;
    uint32_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return 0;
        v = v * 10 + static_cast<uint32_t>(c - '0');
    }
    for (uint32_t w : widths)
        if (w == v) return v;
    return 0;
}

const std::unordered_map<std::string_view, Tok>& keyword_table() {
    static const std::unordered_map<std::string_view, Tok> table = [] {
        std::unordered_map<std::string_view, Tok> t = {
            {"wild", Tok::KwWild},     {"wildx", Tok::KwWildx},   {"stack", Tok::KwStack},
            {"gc", Tok::KwGc},         {"fixed", Tok::KwFixed},   {"const", Tok::KwConst},
            {"defer", Tok::KwDefer},   {"if", Tok::KwIf},         {"else", Tok::KwElse},
            {"return", Tok::KwReturn}, {"pass", Tok::KwPass},     {"fail", Tok::KwFail},
            {"exit", Tok::KwExit},     {"raw", Tok::KwRaw},       {"drop", Tok::KwDrop},
            {"func", Tok::KwFunc},     {"struct", Tok::KwStruct}, {"Type", Tok::KwType},
            {"impl", Tok::KwImpl},     {"use", Tok::KwUse},       {"pub", Tok::KwPub},
            {"extern", Tok::KwExtern}, {"as", Tok::KwAs},         {"for", Tok::KwFor},
            {"true", Tok::KwTrue},     {"false", Tok::KwFalse},   {"NIL", Tok::KwNil},
            {"Result", Tok::KwResult}, {"bool", Tok::KwBool},
        };
        // Reserved upstream, outside the subset's grammar.
        for (std::string_view w : {
                 "move", "while", "loop", "till", "when", "then", "end", "pick", "fall",
                 "break", "continue", "ok", "defaults", "prove", "assert_static", "async",
                 "await", "catch", "in", "is", "enum", "opaque", "trait", "Rules", "limit",
                 "mod", "cfg", "comptime", "inline", "noinline", "macro", "derive",
                 "requires", "ensures", "invariant", "NULL", "ERR", "unknown",
                 // atomics
                 "relaxed", "acquire", "release", "acq_rel", "seq_cst",
                 // user stack and user hash table
                 "apop", "apush", "apeek", "astack", "acap", "asize", "afits", "atype",
                 "ahash", "ahset", "ahget", "ahcount", "ahsize", "ahfits", "ahtype",
                 "ahdelete", "ahhas", "ahclear", "ahkeys"})
            t.emplace(w, Tok::Reserved);
        // Type words that are neither integers nor bool/Result.
        for (std::string_view w : {
                 "frac8", "frac16", "frac32", "frac64", "tfp32", "tfp64", "flt32", "flt64",
                 "flt128", "flt256", "flt512", "fix256", "string", "dyn", "obj", "any",
                 "array", "trit", "tryte", "nit", "nyte", "vec2", "vec3", "vec9", "matrix",
                 "tmatrix", "tensor", "ttensor", "binary", "buffer", "stream", "process",
                 "pipe", "debug"})
            t.emplace(w, Tok::TypeWord);
        return t;
    }();
    return table;
}

std::string capitalized(const char* s) {
    std::string out(s);
    if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
    return out;
}

}  // namespace

Tok keyword_kind(std::string_view word, TypeWordKind* type, uint32_t* bits) {
    TypeWordKind tk = TypeWordKind::None;
    uint32_t b = 0;
    Tok kind = Tok::Ident;
    if (word.size() > 3 && word.substr(0, 3) == "int" && (b = parse_width(word.substr(3), kIntWidths))) {
        kind = Tok::TypeWord;
        tk = TypeWordKind::Int;
    } else if (word.size() > 4 && word.substr(0, 4) == "uint" &&
               (b = parse_width(word.substr(4), kIntWidths))) {
        kind = Tok::TypeWord;
        tk = TypeWordKind::UInt;
    } else if (word.size() > 3 && word.substr(0, 3) == "tbb" &&
               (b = parse_width(word.substr(3), kTbbWidths))) {
        kind = Tok::TypeWord;
        tk = TypeWordKind::Tbb;
    } else {
        const auto& table = keyword_table();
        auto it = table.find(word);
        if (it != table.end()) {
            kind = it->second;
            if (kind == Tok::TypeWord) tk = TypeWordKind::Other;
        }
    }
    if (type) *type = tk;
    if (bits) *bits = b;
    return kind;
}

const char* tok_name(Tok k) {
    switch (k) {
    case Tok::Eof: return "end of file";
    case Tok::Ident: return "identifier";
    case Tok::Int: return "integer literal";
    case Tok::String: return "string literal";
    case Tok::LParen: return "'('";
    case Tok::RParen: return "')'";
    case Tok::LBrace: return "'{'";
    case Tok::RBrace: return "'}'";
    case Tok::LBracket: return "'['";
    case Tok::RBracket: return "']'";
    case Tok::Comma: return "','";
    case Tok::Semi: return "';'";
    case Tok::Colon: return "':'";
    case Tok::Dot: return "'.'";
    case Tok::Assign: return "'='";
    case Tok::EqEq: return "'=='";
    case Tok::NotEq: return "'!='";
    case Tok::Lt: return "'<'";
    case Tok::Le: return "'<='";
    case Tok::Gt: return "'>'";
    case Tok::Ge: return "'>='";
    case Tok::Plus: return "'+'";
    case Tok::Minus: return "'-'";
    case Tok::Star: return "'*'";
    case Tok::Slash: return "'/'";
    case Tok::Percent: return "'%'";
    case Tok::Bang: return "'!'";
    case Tok::AndAnd: return "'&&'";
    case Tok::OrOr: return "'||'";
    case Tok::Arrow: return "'->'";
    case Tok::Question: return "'?'";
    case Tok::Hash: return "'#'";
    case Tok::At: return "'@'";
    case Tok::DollarI: return "'$$i'";
    case Tok::DollarM: return "'$$m'";
    case Tok::KwWild: return "'wild'";
    case Tok::KwWildx: return "'wildx'";
    case Tok::KwStack: return "'stack'";
    case Tok::KwGc: return "'gc'";
    case Tok::KwFixed: return "'fixed'";
    case Tok::KwConst: return "'const'";
    case Tok::KwDefer: return "'defer'";
    case Tok::KwIf: return "'if'";
    case Tok::KwElse: return "'else'";
    case Tok::KwReturn: return "'return'";
    case Tok::KwPass: return "'pass'";
    case Tok::KwFail: return "'fail'";
    case Tok::KwExit: return "'exit'";
    case Tok::KwRaw: return "'raw'";
    case Tok::KwDrop: return "'drop'";
    case Tok::KwFunc: return "'func'";
    case Tok::KwStruct: return "'struct'";
    case Tok::KwType: return "'Type'";
    case Tok::KwImpl: return "'impl'";
    case Tok::KwUse: return "'use'";
    case Tok::KwPub: return "'pub'";
    case Tok::KwExtern: return "'extern'";
    case Tok::KwAs: return "'as'";
    case Tok::KwFor: return "'for'";
    case Tok::KwTrue: return "'true'";
    case Tok::KwFalse: return "'false'";
    case Tok::KwNil: return "'NIL'";
    case Tok::KwResult: return "'Result'";
    case Tok::KwBool: return "'bool'";
    case Tok::TypeWord: return "type name";
    case Tok::Reserved: return "reserved word";
    }
    return "token";
}

std::string tok_describe(const Token& t) {
    switch (t.kind) {
    case Tok::Eof: return "end of file";
    case Tok::String: return "string literal";
    default: break;
    }
    std::string_view text = t.text;
    if (text.size() > 40) return "'" + std::string(text.substr(0, 37)) + "...'";
    return "'" + std::string(text) + "'";
}

Lexer::Lexer(const SourceManager& sources, uint32_t file, Diagnostics& diag)
    : sources_(sources), file_(file), diag_(diag), text_(sources.file(file).text) {
    // A UTF-8 byte order mark says nothing here; skip it.
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

Loc Lexer::loc_of(uint32_t offset) const {
    // Positions asked for are on the current line (strings stop at a
    // newline; a block comment's start is taken before it is skipped);
    // anything earlier falls back to the SourceManager's search.
    if (offset < line_start_) return sources_.loc_at(file_, offset);
    // Display columns (diag/columns.h), counted on from the last position
    // asked for on this line, so a long line costs its length once.
    if (col_line_start_ != line_start_ || offset < col_offset_) {
        col_line_start_ = line_start_;
        col_offset_ = line_start_;
        col_ = 1;
    }
    col_ = advance_column(col_, text_.substr(col_offset_, offset - col_offset_));
    col_offset_ = offset;
    return Loc{file_, line_, col_, offset};
}

void Lexer::bump() {
    if (pos_ < text_.size()) {
        if (text_[pos_] == '\n') {
            ++line_;
            line_start_ = pos_ + 1;
        }
        ++pos_;
    }
}

void Lexer::error_at(uint32_t offset, std::string message) {
    if (gave_up_) return;
    ++errors_;
    if (errors_ > kMaxLexErrors) {
        diag_.error(loc_of(offset), "", "Too many lexical errors in this file; giving up on it");
        gave_up_ = true;
        return;
    }
    diag_.error(loc_of(offset), "", std::move(message));
}

Token Lexer::make(Tok kind, uint32_t begin) {
    Token t;
    t.kind = kind;
    t.loc = loc_of(begin);
    t.text = text_.substr(begin, pos_ - begin);
    return t;
}

void Lexer::skip_space_and_comments() {
    for (;;) {
        char c = peek();
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            bump();
        } else if (c == '/' && peek(1) == '/') {
            while (!at_end() && peek() != '\n') bump();
        } else if (c == '/' && peek(1) == '*') {
            uint32_t begin = pos_;
            Loc start = loc_of(begin);
            bump();
            bump();
            bool closed = false;
            while (!at_end()) {
                if (peek() == '*' && peek(1) == '/') {
                    bump();
                    bump();
                    closed = true;
                    break;
                }
                bump();
            }
            if (!closed && !gave_up_) {
                ++errors_;
                diag_.error(start, "", "Unterminated '/*' comment (no '*/' before the end of the file)");
            }
        } else {
            return;
        }
    }
}

Token Lexer::next() {
    for (;;) {
        skip_space_and_comments();
        if (at_end() || gave_up_) {
            Token t;
            t.kind = Tok::Eof;
            t.loc = loc_of(static_cast<uint32_t>(text_.size()));
            return t;
        }
        uint32_t begin = pos_;
        char c = peek();
        if (is_digit(c)) return lex_number(begin);
        if (is_alpha(c)) return lex_word(begin);
        if (c == '"') return lex_string(begin);

        auto one = [&](Tok k) {
            bump();
            return make(k, begin);
        };
        auto two = [&](Tok k) {
            bump();
            bump();
            return make(k, begin);
        };
        switch (c) {
        case '(': return one(Tok::LParen);
        case ')': return one(Tok::RParen);
        case '{': return one(Tok::LBrace);
        case '}': return one(Tok::RBrace);
        case '[': return one(Tok::LBracket);
        case ']': return one(Tok::RBracket);
        case ',': return one(Tok::Comma);
        case ';': return one(Tok::Semi);
        case ':': return one(Tok::Colon);
        case '.': return one(Tok::Dot);
        case '+': return one(Tok::Plus);
        case '*': return one(Tok::Star);
        case '/': return one(Tok::Slash);
        case '%': return one(Tok::Percent);
        case '?': return one(Tok::Question);
        case '#': return one(Tok::Hash);
        case '=': return peek(1) == '=' ? two(Tok::EqEq) : one(Tok::Assign);
        case '!': return peek(1) == '=' ? two(Tok::NotEq) : one(Tok::Bang);
        case '<': return peek(1) == '=' ? two(Tok::Le) : one(Tok::Lt);
        case '>': return peek(1) == '=' ? two(Tok::Ge) : one(Tok::Gt);
        case '-': return peek(1) == '>' ? two(Tok::Arrow) : one(Tok::Minus);
        case '&':
            if (peek(1) == '&') return two(Tok::AndAnd);
            bump();
            error_at(begin, "Unexpected character '&' (the subset has no bitwise operators; did you mean '&&'?)");
            continue;
        case '|':
            if (peek(1) == '|') return two(Tok::OrOr);
            bump();
            error_at(begin, "Unexpected character '|' (the subset has no bitwise operators; did you mean '||'?)");
            continue;
        case '@': return one(Tok::At);
        case '$':
            if (peek(1) == '$' && (peek(2) == 'i' || peek(2) == 'm') && !is_alnum(peek(3))) {
                Tok k = peek(2) == 'i' ? Tok::DollarI : Tok::DollarM;
                bump();
                bump();
                bump();
                return make(k, begin);
            }
            while (peek() == '$') bump();
            while (is_alnum(peek())) bump();
            error_at(begin, "Unexpected '" + std::string(text_.substr(begin, pos_ - begin)) +
                                "' (the only '$' tokens are '$$i' and '$$m')");
            continue;
        default: break;
        }

        // Anything else is not a token. Name the character: printable
        // ASCII as itself, a UTF-8 sequence as itself and its code point,
        // other bytes by value.
        unsigned char b = static_cast<unsigned char>(c);
        std::string what;
        char buf[32];
        if (b >= 0x21 && b < 0x7f) {
            what = std::string("'") + c + "'";
            bump();
        } else if (b < 0x80) {
            std::snprintf(buf, sizeof buf, "U+%04X", b);
            what = buf;
            bump();
        } else {
            uint32_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            uint32_t cp = len == 4 ? (b & 0x07u) : len == 3 ? (b & 0x0Fu) : (b & 0x1Fu);
            bool ok = len > 1 && pos_ + len <= text_.size();
            for (uint32_t i = 1; ok && i < len; ++i) {
                unsigned char cb = static_cast<unsigned char>(text_[pos_ + i]);
                if ((cb & 0xC0) != 0x80) ok = false;
                cp = (cp << 6) | (cb & 0x3Fu);
            }
            if (ok) {
                std::snprintf(buf, sizeof buf, " (U+%04X)", cp);
                what = "'" + std::string(text_.substr(pos_, len)) + "'" + buf;
                for (uint32_t i = 0; i < len; ++i) bump();
            } else {
                std::snprintf(buf, sizeof buf, "byte 0x%02X", b);
                what = buf;
                bump();
            }
        }
        error_at(begin, "Unexpected character " + what);
    }
}

// INT = DIGIT { DIGIT | "_" } [ SUFFIX ] ;
// SUFFIX = ("i" | "u") WIDTH | "tbb" ("8" | "16" | "32" | "64") ;
Token Lexer::lex_number(uint32_t begin) {
    uint64_t value = 0;
    bool overflow = false;
    while (is_digit(peek()) || peek() == '_') {
        char c = peek();
        if (c != '_') {
            uint64_t d = static_cast<uint64_t>(c - '0');
            if (value > (UINT64_MAX - d) / 10) overflow = true;
            else value = value * 10 + d;
        }
        bump();
    }
    uint32_t digits_end = pos_;

    // A fraction makes a float literal, which the subset does not have.
    if (peek() == '.' && is_digit(peek(1))) {
        bump();
        while (is_alnum(peek())) bump();
        Token t = make(Tok::Int, begin);
        t.bad = true;
        error_at(begin, "Floating-point literal " + std::string(t.text) +
                            " is not supported (the subset has integers only)");
        return t;
    }

    uint32_t suffix_begin = pos_;
    while (is_alnum(peek())) bump();
    std::string_view suffix = text_.substr(suffix_begin, pos_ - suffix_begin);
    Token t = make(Tok::Int, begin);
    t.value = value;
    t.overflow = overflow;

    if (!suffix.empty()) {
        std::string_view digits = text_.substr(begin, digits_end - begin);
        uint32_t bits = 0;
        if (suffix[0] == 'i' && (bits = parse_width(suffix.substr(1), kIntWidths)) >= 8) {
            t.has_suffix = true;
            t.suffix_signed = true;
        } else if (suffix[0] == 'u' && (bits = parse_width(suffix.substr(1), kIntWidths)) >= 8) {
            t.has_suffix = true;
            t.suffix_signed = false;
        } else if (suffix.size() > 3 && suffix.substr(0, 3) == "tbb" &&
                   (bits = parse_width(suffix.substr(3), kTbbWidths)) != 0) {
            t.has_suffix = true;
            t.suffix_signed = true;
            t.suffix_tbb = true;
        }
        if (t.has_suffix) {
            t.suffix_bits = bits;
        } else {
            t.bad = true;
            if (digits == "0" && (suffix[0] == 'x' || suffix[0] == 'X' || suffix[0] == 'b' ||
                                  suffix[0] == 'B' || suffix[0] == 'o' || suffix[0] == 'O')) {
                const char* base = (suffix[0] == 'x' || suffix[0] == 'X') ? "hexadecimal"
                                 : (suffix[0] == 'b' || suffix[0] == 'B') ? "binary" : "octal";
                error_at(begin, capitalized(base) + " literal " + std::string(t.text) +
                                    " is not supported (write the value in decimal)");
            } else {
                error_at(begin, "Invalid suffix '" + std::string(suffix) + "' on integer literal " +
                                    std::string(t.text) +
                                    " (suffixes are i8 i16 i32 i64, u8 u16 u32 u64, tbb8 tbb16 tbb32 tbb64)");
            }
            return t;
        }
    }
    if (overflow) {
        t.bad = true;
        error_at(begin, "Integer literal " + std::string(t.text) +
                            " is too large (the largest is 18446744073709551615)");
    }
    return t;
}

// STRING = '"' { CHAR | ESCAPE } '"' ;
// ESCAPE = "\n" | "\t" | "\r" | "\\" | "\"" | "\0" | "\x" HEX HEX | "\u{" HEX {HEX} "}" ;
Token Lexer::lex_string(uint32_t begin) {
    bump();  // opening quote
    std::string value;
    bool closed = false;
    bool bad = false;
    while (!at_end()) {
        char c = peek();
        if (c == '"') {
            bump();
            closed = true;
            break;
        }
        if (c == '\n') break;
        if (c != '\\') {
            value += c;
            bump();
            continue;
        }
        uint32_t esc = pos_;
        bump();
        char e = peek();
        switch (e) {
        case 'n': value += '\n'; bump(); break;
        case 't': value += '\t'; bump(); break;
        case 'r': value += '\r'; bump(); break;
        case '\\': value += '\\'; bump(); break;
        case '"': value += '"'; bump(); break;
        case '0': value += '\0'; bump(); break;
        case 'x': {
            bump();
            if (is_hex(peek()) && is_hex(peek(1))) {
                value += static_cast<char>(hex_value(peek()) * 16 + hex_value(peek(1)));
                bump();
                bump();
            } else {
                bad = true;
                error_at(esc, "Invalid escape: '\\x' must be followed by exactly two hex digits");
            }
            break;
        }
        case 'u': {
            bump();
            if (peek() != '{') {
                bad = true;
                error_at(esc, "Invalid escape: write '\\u{...}' with 1 to 6 hex digits in braces");
                break;
            }
            bump();
            uint32_t cp = 0;
            uint32_t n = 0;
            while (is_hex(peek()) && n < 7) {
                cp = cp * 16 + hex_value(peek());
                ++n;
                bump();
            }
            if (peek() != '}' || n == 0 || n > 6) {
                bad = true;
                error_at(esc, "Invalid escape: write '\\u{...}' with 1 to 6 hex digits in braces");
                while (!at_end() && peek() != '}' && peek() != '"' && peek() != '\n') bump();
                if (peek() == '}') bump();
                break;
            }
            bump();
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                bad = true;
                char buf[64];
                std::snprintf(buf, sizeof buf, "Invalid escape: U+%X is not a Unicode scalar value", cp);
                error_at(esc, buf);
                break;
            }
            // UTF-8 encoding of the code point.
            if (cp < 0x80) {
                value += static_cast<char>(cp);
            } else if (cp < 0x800) {
                value += static_cast<char>(0xC0 | (cp >> 6));
                value += static_cast<char>(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                value += static_cast<char>(0xE0 | (cp >> 12));
                value += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                value += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
                value += static_cast<char>(0xF0 | (cp >> 18));
                value += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
                value += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                value += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: {
            bad = true;
            if (e == '\n' || at_end()) {
                // The backslash ended the line; the string is unterminated
                // and the loop reports that.
                break;
            }
            std::string shown = static_cast<unsigned char>(e) >= 0x20 && static_cast<unsigned char>(e) < 0x7f
                                    ? std::string(1, e) : std::string("?");
            error_at(esc, "Invalid escape '\\" + shown +
                              "' (escapes are \\n \\t \\r \\\\ \\\" \\0 \\xHH \\u{H...})");
            bump();
            break;
        }
        }
    }
    Token t = make(Tok::String, begin);
    t.str = std::move(value);
    t.bad = bad;
    if (!closed) {
        t.bad = true;
        error_at(begin, "Unterminated string literal (a string must end with '\"' on the same line)");
    }
    return t;
}

Token Lexer::lex_word(uint32_t begin) {
    while (is_alnum(peek())) bump();
    Token t = make(Tok::Ident, begin);
    t.kind = keyword_kind(t.text, &t.type, &t.bits);
    return t;
}

std::vector<Token> lex_file(const SourceManager& sources, uint32_t file, Diagnostics& diag) {
    Lexer lx(sources, file, diag);
    std::vector<Token> out;
    for (;;) {
        out.push_back(lx.next());
        if (out.back().kind == Tok::Eof) break;
    }
    return out;
}

}  // namespace npk
