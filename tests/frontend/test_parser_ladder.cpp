// An `else if` ladder is one level of nesting (issue 16: a ladder of more
// than 255 arms was "Nesting too deep"); its arms have their own bound.
#include <catch2/catch.hpp>

#include <string>

#include "parser_test_util.h"

namespace npk::test {
namespace {

std::string ladder(int arms) {
    std::string s = "func:a = int32(int32:x) {\n    if (x == 0) { pass 0; }\n";
    for (int i = 1; i < arms; ++i) s += "    else if (x == " + std::to_string(i) + ") { pass " + std::to_string(i) + "; }\n";
    return s + "    pass 7;\n};\n";
}

}  // namespace

TEST_CASE("parser: an else-if ladder of 1000 arms is one level of nesting", "[parser]") {
    auto p = parse(ladder(1000));
    INFO(diags(*p));
    CHECK(p->ok);
}

TEST_CASE("parser: an else-if ladder over the arm limit is an error at the arm", "[parser]") {
    auto p = parse(ladder(static_cast<int>(kMaxIfArms) + 1));
    CHECK_FALSE(p->ok);
    CHECK(has_error(*p, kMaxIfArms + 2, 10, "Too many 'else if' arms: more than 1024"));
}

}  // namespace npk::test
