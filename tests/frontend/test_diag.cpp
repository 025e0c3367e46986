// Diagnostics (diag/): display columns as GCC counts them, the caret
// under the right character, and long source lines cut around it.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "diag/columns.h"
#include "diag/diag.h"
#include "syntax/lexer.h"

namespace npk::test {
namespace {

// Prints the one error reported at byte `offset` of a one-file source.
std::string printed(const std::string& text, uint32_t offset) {
    SourceManager sources;
    uint32_t f = sources.add("t.npk", "/t.npk", text);
    Diagnostics diag(sources);
    diag.error(sources.loc_at(f, offset), "", "Here");
    std::ostringstream out;
    diag.print(out, false);
    return out.str();
}

}  // namespace

TEST_CASE("diag: columns count display columns, as GCC does (issue 9)", "[diag]") {
    CHECK(advance_column(1, "abc") == 4);
    CHECK(advance_column(1, "\xE2\x82\xAC") == 2);            // € : one column, three bytes
    CHECK(advance_column(1, "\xE6\x97\xA5\xE6\x9C\xAC") == 5);  // 日本: two wide characters
    CHECK(advance_column(1, "e\xCC\x81") == 2);               // e + combining acute accent
    CHECK(advance_column(1, "\t") == 9);
    CHECK(advance_column(3, "\t") == 9);
    CHECK(advance_column(9, "\t") == 17);
    CHECK(advance_column(1, "\xFF") == 2);                    // not UTF-8: one column a byte

    // The lexer and the SourceManager agree.
    SourceManager sources;
    const std::string text = "x = \"\xE6\x97\xA5\xE6\x9C\xAC\" + \xE2\x82\xAC;\n";
    uint32_t f = sources.add("t.npk", "/t.npk", text);
    Diagnostics diag(sources);
    auto toks = lex_file(sources, f, diag);
    const size_t euro = text.find("\xE2\x82\xAC");
    CHECK(sources.loc_at(f, static_cast<uint32_t>(euro)).col == 14);
    // x = "日本" + then the euro sign, which the lexer rejects at column 14.
    REQUIRE(diag.error_count() >= 1);
    CHECK(diag.all()[0].loc.col == 14);
}

TEST_CASE("diag: the caret sits under the character after wide and multi-byte ones (issue 9)", "[diag]") {
    const std::string line = "\xE6\x97\xA5\xE6\x9C\xAC \xE2\x82\xAC x";   // 日本 € x
    const std::string out = printed(line + "\n", static_cast<uint32_t>(line.find('x')));
    CHECK(out == "t.npk:1:8: error: Here\n"
                 "    " + line + "\n"
                 "           ^\n");
}

TEST_CASE("diag: a long source line is cut around the caret (issue 9)", "[diag]") {
    std::string line(2000000, 'a');
    line[1000000] = 'X';
    const std::string out = printed(line + "\n", 1000000);
    // One message line, a window of the source, a caret: not 2 MB.
    CHECK(out.size() < 400);
    std::istringstream in(out);
    std::string head, src, caret;
    std::getline(in, head);
    std::getline(in, src);
    std::getline(in, caret);
    CHECK(head == "t.npk:1:1000001: error: Here");
    CHECK(src.rfind("    ...", 0) == 0);
    CHECK((src.size() >= 3 && src.compare(src.size() - 3, 3, "...") == 0));
    REQUIRE(caret.find('^') != std::string::npos);
    CHECK(src[caret.find('^')] == 'X');

    // Near the start or the end only one side is cut; a cut never splits
    // a character.
    std::string wide;
    for (int i = 0; i < 200; ++i) wide += "\xE6\x97\xA5";  // 日 x 200
    const std::string start = printed(wide + "\n", 3);
    std::istringstream s2(start);
    std::getline(s2, head);
    std::getline(s2, src);
    CHECK(src.rfind("    \xE6\x97\xA5", 0) == 0);
    CHECK(src.compare(src.size() - 3, 3, "...") == 0);
    CHECK((src.size() - 4 - 3) % 3 == 0);
    std::getline(s2, caret);
    CHECK(caret == "      ^");  // one wide character before it: two columns
    // Short lines are echoed whole.
    CHECK(printed("abc\n", 1) == "t.npk:1:2: error: Here\n    abc\n     ^\n");
}

}  // namespace npk::test
