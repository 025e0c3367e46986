// The lexer (nitpick-subset.md §1): every token kind, every literal form
// and suffix, and every lexical error with its position.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "diag/diag.h"
#include "syntax/lexer.h"
#include "syntax/token.h"

using namespace npk;

namespace {

struct Lexed {
    SourceManager sources;
    Diagnostics diag{sources};
    std::vector<Token> toks;
};

std::unique_ptr<Lexed> lex(const std::string& text) {
    auto l = std::make_unique<Lexed>();
    uint32_t id = l->sources.add("t.npk", "/t.npk", text);
    l->toks = lex_file(l->sources, id, l->diag);
    return l;
}

std::vector<Tok> kinds(const Lexed& l) {
    std::vector<Tok> k;
    for (const auto& t : l.toks) k.push_back(t.kind);
    return k;
}

std::string dump_diags(const Lexed& l) {
    std::string s;
    for (const auto& d : l.diag.all()) s += l.diag.format_line(d) + "\n";
    return s;
}

// The one error of `text`, which must be at line:col and contain `frag`.
void expect_one_error(const std::string& text, uint32_t line, uint32_t col, const std::string& frag) {
    auto l = lex(text);
    INFO("input: " << text << "\n" << dump_diags(*l));
    REQUIRE(l->diag.error_count() == 1);
    const Diagnostic& d = l->diag.all().front();
    CHECK(d.severity == Severity::Error);
    CHECK(d.code.empty());
    CHECK(d.loc.line == line);
    CHECK(d.loc.col == col);
    CHECK(d.message.find(frag) != std::string::npos);
}

}  // namespace

TEST_CASE("lexer: punctuation and operators, longest match first", "[lexer]") {
    auto l = lex("( ) { } [ ] , ; : . = == != < <= > >= + - * / % ! && || -> ? # $$i $$m");
    REQUIRE(l->diag.error_count() == 0);
    std::vector<Tok> want = {
        Tok::LParen, Tok::RParen, Tok::LBrace, Tok::RBrace, Tok::LBracket, Tok::RBracket,
        Tok::Comma, Tok::Semi, Tok::Colon, Tok::Dot, Tok::Assign, Tok::EqEq, Tok::NotEq,
        Tok::Lt, Tok::Le, Tok::Gt, Tok::Ge, Tok::Plus, Tok::Minus, Tok::Star, Tok::Slash,
        Tok::Percent, Tok::Bang, Tok::AndAnd, Tok::OrOr, Tok::Arrow, Tok::Question, Tok::Hash,
        Tok::DollarI, Tok::DollarM, Tok::Eof};
    CHECK(kinds(*l) == want);
}

TEST_CASE("lexer: operators glued together split by longest match", "[lexer]") {
    auto l = lex("a==-b!=!c<=d>=e->f->:g");
    REQUIRE(l->diag.error_count() == 0);
    std::vector<Tok> want = {Tok::Ident, Tok::EqEq, Tok::Minus, Tok::Ident, Tok::NotEq,
                             Tok::Bang, Tok::Ident, Tok::Le, Tok::Ident, Tok::Ge, Tok::Ident,
                             Tok::Arrow, Tok::Ident, Tok::Arrow, Tok::Colon, Tok::Ident, Tok::Eof};
    CHECK(kinds(*l) == want);
}

TEST_CASE("lexer: token positions count lines and columns from 1", "[lexer]") {
    auto l = lex("func:main\n  = int32();\n\tx");
    REQUIRE(l->toks.size() == 10);
    CHECK(l->toks[0].loc.line == 1);
    CHECK(l->toks[0].loc.col == 1);
    CHECK(l->toks[0].loc.offset == 0);
    CHECK(l->toks[2].text == "main");
    CHECK(l->toks[2].loc.col == 6);
    CHECK(l->toks[3].kind == Tok::Assign);
    CHECK(l->toks[3].loc.line == 2);
    CHECK(l->toks[3].loc.col == 3);
    CHECK(l->toks[4].text == "int32");
    CHECK(l->toks[4].loc.col == 5);
    CHECK(l->toks[4].loc.offset == 14);
    CHECK(l->toks[8].text == "x");
    CHECK(l->toks[8].loc.line == 3);
    CHECK(l->toks[8].loc.col == 9);  // a tab advances to the next multiple of 8, as GCC counts
    CHECK(l->toks[9].kind == Tok::Eof);
    CHECK(l->toks[9].loc.line == 3);
    CHECK(l->toks[9].loc.col == 10);
}

TEST_CASE("lexer: keywords of the subset", "[lexer]") {
    struct Case { const char* word; Tok kind; };
    const Case cases[] = {
        {"wild", Tok::KwWild}, {"wildx", Tok::KwWildx}, {"stack", Tok::KwStack},
        {"gc", Tok::KwGc}, {"fixed", Tok::KwFixed}, {"const", Tok::KwConst},
        {"defer", Tok::KwDefer}, {"if", Tok::KwIf}, {"else", Tok::KwElse},
        {"return", Tok::KwReturn}, {"pass", Tok::KwPass}, {"fail", Tok::KwFail},
        {"exit", Tok::KwExit}, {"raw", Tok::KwRaw}, {"drop", Tok::KwDrop},
        {"func", Tok::KwFunc}, {"struct", Tok::KwStruct}, {"Type", Tok::KwType},
        {"impl", Tok::KwImpl}, {"use", Tok::KwUse}, {"pub", Tok::KwPub},
        {"extern", Tok::KwExtern}, {"as", Tok::KwAs}, {"for", Tok::KwFor},
        {"true", Tok::KwTrue}, {"false", Tok::KwFalse}, {"NIL", Tok::KwNil},
        {"Result", Tok::KwResult}, {"bool", Tok::KwBool},
    };
    for (const Case& c : cases) {
        auto l = lex(c.word);
        INFO(c.word);
        REQUIRE(l->toks.size() == 2);
        CHECK(l->toks[0].kind == c.kind);
        CHECK(l->toks[0].text == c.word);
    }
}

TEST_CASE("lexer: other reserved words are Reserved, not identifiers", "[lexer]") {
    for (const char* w : {"while", "loop", "break", "continue", "NULL", "ERR", "unknown", "await",
                          "catch", "enum", "trait", "mod", "cfg", "release", "seq_cst", "apop",
                          "atype", "ahash", "ahkeys", "move", "assert_static", "Rules"}) {
        auto l = lex(w);
        INFO(w);
        CHECK(l->toks[0].kind == Tok::Reserved);
        CHECK(l->diag.error_count() == 0);
    }
}

TEST_CASE("lexer: type words carry their family and width", "[lexer]") {
    struct Case { const char* word; TypeWordKind kind; uint32_t bits; };
    const Case cases[] = {
        {"int8", TypeWordKind::Int, 8},       {"int16", TypeWordKind::Int, 16},
        {"int32", TypeWordKind::Int, 32},     {"int64", TypeWordKind::Int, 64},
        {"int1", TypeWordKind::Int, 1},       {"int128", TypeWordKind::Int, 128},
        {"int4096", TypeWordKind::Int, 4096}, {"uint8", TypeWordKind::UInt, 8},
        {"uint64", TypeWordKind::UInt, 64},   {"uint2048", TypeWordKind::UInt, 2048},
        {"tbb8", TypeWordKind::Tbb, 8},       {"tbb32", TypeWordKind::Tbb, 32},
        {"tbb64", TypeWordKind::Tbb, 64},     {"string", TypeWordKind::Other, 0},
        {"flt32", TypeWordKind::Other, 0},    {"buffer", TypeWordKind::Other, 0},
        {"process", TypeWordKind::Other, 0},  {"obj", TypeWordKind::Other, 0},
    };
    for (const Case& c : cases) {
        auto l = lex(c.word);
        INFO(c.word);
        CHECK(l->toks[0].kind == Tok::TypeWord);
        CHECK(l->toks[0].type == c.kind);
        CHECK(l->toks[0].bits == c.bits);
    }
    // Not type words: odd widths and look-alikes are plain identifiers.
    for (const char* w : {"int3", "int08", "uint", "int", "tbb128", "tbb", "int8x", "void", "free",
                          "alloc", "wildx_alloc", "Int32", "_int8"}) {
        auto l = lex(w);
        INFO(w);
        CHECK(l->toks[0].kind == Tok::Ident);
    }
}

TEST_CASE("lexer: identifiers", "[lexer]") {
    auto l = lex("a _b c9 Jit npk_jit_call_i32_i32 __x__");
    REQUIRE(l->diag.error_count() == 0);
    REQUIRE(l->toks.size() == 7);
    for (size_t i = 0; i < 6; ++i) CHECK(l->toks[i].kind == Tok::Ident);
    CHECK(l->toks[4].text == "npk_jit_call_i32_i32");
}

TEST_CASE("lexer: integer literals, separators and every suffix", "[lexer]") {
    struct Case {
        const char* text;
        uint64_t value;
        bool suffix;
        bool is_signed;
        bool tbb;
        uint32_t bits;
    };
    const Case cases[] = {
        {"0", 0, false, true, false, 0},
        {"42", 42, false, true, false, 0},
        {"1_000_000", 1000000, false, true, false, 0},
        {"18446744073709551615", UINT64_MAX, false, true, false, 0},
        {"7i8", 7, true, true, false, 8},
        {"7i16", 7, true, true, false, 16},
        {"35i32", 35, true, true, false, 32},
        {"64i64", 64, true, true, false, 64},
        {"1i128", 1, true, true, false, 128},
        {"1i4096", 1, true, true, false, 4096},
        {"255u8", 255, true, false, false, 8},
        {"9u16", 9, true, false, false, 16},
        {"9u32", 9, true, false, false, 32},
        {"9u64", 9, true, false, false, 64},
        {"9u256", 9, true, false, false, 256},
        {"3tbb8", 3, true, true, true, 8},
        {"3tbb16", 3, true, true, true, 16},
        {"3tbb32", 3, true, true, true, 32},
        {"3tbb64", 3, true, true, true, 64},
        {"1_0i32", 10, true, true, false, 32},
    };
    for (const Case& c : cases) {
        auto l = lex(c.text);
        INFO(c.text << "\n" << dump_diags(*l));
        REQUIRE(l->diag.error_count() == 0);
        REQUIRE(l->toks.size() == 2);
        const Token& t = l->toks[0];
        CHECK(t.kind == Tok::Int);
        CHECK(t.value == c.value);
        CHECK(t.has_suffix == c.suffix);
        if (c.suffix) {
            CHECK(t.suffix_signed == c.is_signed);
            CHECK(t.suffix_tbb == c.tbb);
            CHECK(t.suffix_bits == c.bits);
        }
        CHECK(t.text == c.text);
    }
}

TEST_CASE("lexer: a minus is never part of a literal", "[lexer]") {
    auto l = lex("-1 -1i8");
    REQUIRE(l->diag.error_count() == 0);
    std::vector<Tok> want = {Tok::Minus, Tok::Int, Tok::Minus, Tok::Int, Tok::Eof};
    CHECK(kinds(*l) == want);
}

TEST_CASE("lexer: string literals decode every escape", "[lexer]") {
    auto l = lex(R"("jit.npk" "a\nb\tc\rd\\e\"f" "\0" "\x41\x7a" "\u{41}\u{e9}\u{20AC}\u{1F600}" "")");
    INFO(dump_diags(*l));
    REQUIRE(l->diag.error_count() == 0);
    REQUIRE(l->toks.size() == 7);
    CHECK(l->toks[0].kind == Tok::String);
    CHECK(l->toks[0].str == "jit.npk");
    CHECK(l->toks[1].str == "a\nb\tc\rd\\e\"f");
    CHECK(l->toks[2].str == std::string(1, '\0'));
    CHECK(l->toks[3].str == "Az");
    CHECK(l->toks[4].str == "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    CHECK(l->toks[5].str.empty());
    CHECK(l->toks[0].loc.col == 1);
    CHECK(l->toks[1].loc.col == 11);
}

TEST_CASE("lexer: UTF-8 text inside strings and comments is kept", "[lexer]") {
    auto l = lex("// d\xC3\xA9j\xC3\xA0 vu\n/* \xE2\x82\xAC */ \"\xC3\xA9t\xC3\xA9\" x");
    REQUIRE(l->diag.error_count() == 0);
    REQUIRE(l->toks.size() == 3);
    CHECK(l->toks[0].str == "\xC3\xA9t\xC3\xA9");
    CHECK(l->toks[1].loc.line == 2);
}

TEST_CASE("lexer: comments are skipped, block comments do not nest", "[lexer]") {
    auto l = lex("a // line comment\nb /* block\n comment */ c /* /* */ d /**/ e");
    REQUIRE(l->diag.error_count() == 0);
    REQUIRE(l->toks.size() == 6);
    CHECK(l->toks[0].text == "a");
    CHECK(l->toks[1].text == "b");
    CHECK(l->toks[2].text == "c");
    CHECK(l->toks[2].loc.line == 3);
    CHECK(l->toks[3].text == "d");
    CHECK(l->toks[4].text == "e");
}

TEST_CASE("lexer: a leading byte order mark is skipped", "[lexer]") {
    auto l = lex("\xEF\xBB\xBFx");
    REQUIRE(l->diag.error_count() == 0);
    CHECK(l->toks[0].kind == Tok::Ident);
    CHECK(l->toks[0].loc.col == 1);  // the mark takes no display column
    CHECK(l->toks[0].loc.offset == 3);
}

TEST_CASE("lexer: empty and blank input give only Eof", "[lexer]") {
    for (const char* text : {"", "   \n\t\r\n", "// only a comment", "/* */"}) {
        auto l = lex(text);
        CHECK(l->diag.error_count() == 0);
        REQUIRE(l->toks.size() == 1);
        CHECK(l->toks[0].kind == Tok::Eof);
    }
}

TEST_CASE("lexer errors: letters glued to digits", "[lexer][errors]") {
    expect_one_error("x = 12abc;", 1, 5, "Invalid suffix 'abc' on integer literal 12abc");
    expect_one_error("\n  4f32", 2, 3, "Invalid suffix 'f32'");
    expect_one_error("1i7", 1, 1, "Invalid suffix 'i7'");
    expect_one_error("1i4", 1, 1, "Invalid suffix 'i4'");
    expect_one_error("1u", 1, 1, "Invalid suffix 'u'");
    expect_one_error("1tbb128", 1, 1, "Invalid suffix 'tbb128'");
    expect_one_error("1i32_", 1, 1, "Invalid suffix 'i32_'");
    expect_one_error("5I32", 1, 1, "Invalid suffix 'I32'");
}

TEST_CASE("lexer errors: other number bases and floats", "[lexer][errors]") {
    expect_one_error("a 0x1F", 1, 3, "Hexadecimal literal 0x1F is not supported");
    expect_one_error("0b101", 1, 1, "Binary literal 0b101 is not supported");
    expect_one_error("0o17", 1, 1, "Octal literal 0o17 is not supported");
    expect_one_error("  1.5", 1, 3, "Floating-point literal 1.5 is not supported");
    expect_one_error("2.0f32", 1, 1, "Floating-point literal 2.0f32");
}

TEST_CASE("lexer errors: literal too large for 64 bits", "[lexer][errors]") {
    expect_one_error("x\n 18446744073709551616", 2, 2, "Integer literal 18446744073709551616 is too large");
    expect_one_error("99999999999999999999999i64", 1, 1, "is too large");
    auto l = lex("18446744073709551616");
    CHECK(l->toks[0].kind == Tok::Int);
    CHECK(l->toks[0].overflow);
    CHECK(l->toks[0].bad);
}

TEST_CASE("lexer errors: unterminated comment and string", "[lexer][errors]") {
    expect_one_error("a\n  /* never closed\n\n", 2, 3, "Unterminated '/*' comment");
    expect_one_error("use \"jit.npk\n;", 1, 5, "Unterminated string literal");
    expect_one_error("x \"abc", 1, 3, "Unterminated string literal");
    // The line after an unterminated string lexes normally.
    auto l = lex("\"abc\nx");
    CHECK(l->diag.error_count() == 1);
    CHECK(l->toks[1].kind == Tok::Ident);
    CHECK(l->toks[1].loc.line == 2);
}

TEST_CASE("lexer errors: bad escapes", "[lexer][errors]") {
    expect_one_error(R"("a\qb")", 1, 3, "Invalid escape '\\q'");
    expect_one_error(R"( "\x4")", 1, 3, "'\\x' must be followed by exactly two hex digits");
    expect_one_error(R"("\xZZ")", 1, 2, "exactly two hex digits");
    expect_one_error(R"("\u41")", 1, 2, "'\\u{...}' with 1 to 6 hex digits");
    expect_one_error(R"("\u{}")", 1, 2, "'\\u{...}' with 1 to 6 hex digits");
    expect_one_error(R"("\u{1234567}")", 1, 2, "'\\u{...}' with 1 to 6 hex digits");
    expect_one_error(R"("\u{110000}")", 1, 2, "U+110000 is not a Unicode scalar value");
    expect_one_error(R"("\u{D800}")", 1, 2, "U+D800 is not a Unicode scalar value");
}

TEST_CASE("lexer errors: unexpected characters", "[lexer][errors]") {
    expect_one_error("a ~ b", 1, 3, "Unexpected character '~'");
    expect_one_error("a & b", 1, 3, "did you mean '&&'?");
    expect_one_error("a | b", 1, 3, "did you mean '||'?");
    expect_one_error("x\n $m", 2, 2, "Unexpected '$m'");
    expect_one_error("$$x", 1, 1, "Unexpected '$$x'");
    expect_one_error("$$im", 1, 1, "Unexpected '$$im'");
    expect_one_error("a ~", 1, 3, "Unexpected character '~'");
    expect_one_error("a \x01", 1, 3, "Unexpected character U+0001");
    expect_one_error("a \xC3\xA9", 1, 3, "Unexpected character '\xC3\xA9' (U+00E9)");
    expect_one_error("\xFF", 1, 1, "Unexpected character byte 0xFF");
    // Each error is reported and the lexer keeps going.
    auto l = lex("a ~ b\n` c\n  ^");
    CHECK(l->diag.error_count() == 3);
    std::vector<Tok> want = {Tok::Ident, Tok::Ident, Tok::Ident, Tok::Eof};
    CHECK(kinds(*l) == want);
    CHECK(l->diag.all()[1].loc.line == 2);
    CHECK(l->diag.all()[2].loc.line == 3);
    CHECK(l->diag.all()[2].loc.col == 3);
}

TEST_CASE("lexer errors: a binary file stops after the error limit", "[lexer][errors]") {
    std::string junk(10000, '~');
    for (size_t i = 0; i < junk.size(); i += 2) junk[i] = ' ';
    auto l = lex(junk);
    CHECK(l->diag.error_count() == Lexer::kMaxLexErrors + 1);
    CHECK(l->diag.all().back().message.find("Too many lexical errors") != std::string::npos);
    CHECK(l->toks.back().kind == Tok::Eof);
}
