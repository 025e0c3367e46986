// npk's table of the runtime's C ABI (run/externs.cpp, runtime_symbols())
// against the runtime's public headers: every function the headers
// declare is in the table with the same C signature, and the table has
// nothing the headers do not declare. The headers (the list the runtime's
// CMakeLists.txt keeps, NPK_RUNTIME_PUBLIC_HEADERS) are read at test
// time, so a function added to the runtime without a row in the table
// fails here, not in a user's program.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "run/externs.h"

namespace npk::test {
namespace {

struct HeaderDecl {
    std::string file;
    std::string ret;
    std::vector<std::string> params;   // C types as written, names dropped
};

std::string trim(std::string s) {
    auto sp = [](unsigned char c) { return std::isspace(c) != 0; };
    s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), sp));
    s.erase(std::find_if_not(s.rbegin(), s.rend(), sp).base(), s.end());
    return s;
}

// Removes comments and preprocessor lines, so what is left is C
// declarations (a `#define NPK_API ...` line must not count as one).
std::string strip(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text.compare(i, 2, "/*") == 0) {
            size_t e = text.find("*/", i + 2);
            i = e == std::string::npos ? text.size() : e + 2;
        } else if (text.compare(i, 2, "//") == 0) {
            while (i < text.size() && text[i] != '\n') ++i;
        } else if (text[i] == '#' && (i == 0 || out.empty() || out.back() == '\n')) {
            while (i < text.size() && text[i] != '\n') i += text[i] == '\\' ? 2 : 1;
        } else {
            out += text[i++];
        }
    }
    return out;
}

// "const void* page" -> "const void*"; "size_t" -> "size_t"; "void" -> "".
std::string param_type(std::string p) {
    p = trim(p);
    if (p == "void") return "";
    static const std::regex name_at_end(R"(^(.*[\s*])([A-Za-z_][A-Za-z_0-9]*)$)");
    std::smatch m;
    if (std::regex_match(p, m, name_at_end) && trim(m[1]) != "const" && trim(m[1]) != "unsigned")
        p = m[1];
    return trim(p);
}

// The NPK_API functions the headers declare, by name.
std::map<std::string, HeaderDecl> header_functions(const std::vector<std::filesystem::path>& headers) {
    std::map<std::string, HeaderDecl> out;
    static const std::regex decl(R"(NPK_API\s+([^;()]*?)\b([A-Za-z_][A-Za-z_0-9]*)\s*\(([^)]*)\)\s*;)");
    for (const auto& path : headers) {
        std::ifstream in(path);
        REQUIRE(in.good());
        std::stringstream ss;
        ss << in.rdbuf();
        std::string text = strip(ss.str());
        for (auto it = std::sregex_iterator(text.begin(), text.end(), decl); it != std::sregex_iterator(); ++it) {
            HeaderDecl d;
            d.file = path.filename().string();
            d.ret = trim((*it)[1]);
            std::string params = (*it)[3];
            size_t start = 0;
            while (start <= params.size()) {
                size_t comma = params.find(',', start);
                if (comma == std::string::npos) comma = params.size();
                std::string t = param_type(params.substr(start, comma - start));
                if (!t.empty()) d.params.push_back(t);
                start = comma + 1;
            }
            out[(*it)[2]] = d;
        }
    }
    return out;
}

// The C type a header spelling means, as npk's table writes it.
bool ctype_of_c(const std::string& spelled, CType& out) {
    std::string s = spelled;
    s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }), s.end());
    if (s.find('*') != std::string::npos) return out = CType::Pointer, true;
    static const std::map<std::string, CType> names = {
        {"void", CType::Void},      {"int8_t", CType::SInt8},   {"int16_t", CType::SInt16},
        {"int32_t", CType::SInt32}, {"int64_t", CType::SInt64}, {"uint8_t", CType::UInt8},
        {"uint16_t", CType::UInt16}, {"uint32_t", CType::UInt32}, {"uint64_t", CType::UInt64},
        {"int", CType::SInt32},     {"bool", CType::Bool},      {"_Bool", CType::Bool},
        {"double", CType::Double},
        {"size_t", sizeof(size_t) == 8 ? CType::UInt64 : CType::UInt32},
        {"npk_handle_t", CType::SInt64},  // npk/handle.h: typedef int64_t npk_handle_t
    };
    auto it = names.find(s);
    if (it == names.end()) return false;
    out = it->second;
    return true;
}

}  // namespace

TEST_CASE("runtime externs: npk's table matches the runtime's public headers", "[externs]") {
    std::vector<std::filesystem::path> files;
    std::string list = NPK_RUNTIME_PUBLIC_HEADERS;
    for (size_t start = 0; start < list.size();) {
        size_t bar = std::min(list.find('|', start), list.size());
        files.emplace_back(list.substr(start, bar - start));
        start = bar + 1;
    }
    REQUIRE(files.size() >= 2);
    auto headers = header_functions(files);
    REQUIRE(headers.size() >= 20);  // wildx.h and jit.h alone declare more

    std::map<std::string, const RuntimeSymbol*> table;
    for (const RuntimeSymbol& rs : runtime_symbols()) {
        INFO(rs.name);
        CHECK(table.emplace(rs.name, &rs).second);  // each once
        CHECK(rs.address != nullptr);
    }

    for (const auto& [name, d] : headers) {
        INFO(d.file << ": " << d.ret << " " << name << "(...)");
        auto it = table.find(name);
        CHECK(it != table.end());  // declared in a header, missing from run/externs.cpp
        if (it == table.end()) continue;
        CSignature want;
        REQUIRE(ctype_of_c(d.ret, want.ret));
        for (const std::string& p : d.params) {
            INFO("parameter type " << p);
            CType c;
            REQUIRE(ctype_of_c(p, c));
            want.params.push_back(c);
        }
        const CSignature& have = it->second->sig;
        INFO("header: " << csig_str(want) << ", npk's table: " << csig_str(have));
        CHECK(have.ret == want.ret);
        CHECK(have.params == want.params);
    }
    for (const auto& [name, rs] : table) {
        INFO(name);
        CHECK(headers.count(name) == 1);  // in the table, declared in no header
    }
}

namespace {
std::vector<std::filesystem::path> header_list(const std::string& list) {
    std::vector<std::filesystem::path> files;
    for (size_t start = 0; start < list.size();) {
        size_t bar = std::min(list.find('|', start), list.size());
        files.emplace_back(list.substr(start, bar - start));
        start = bar + 1;
    }
    return files;
}
}  // namespace

// Upstream's edition of the API (runtime/allocators.h, assembler.h,
// handle.h, result.h) declares some of npk/'s functions again, so that it
// stands alone: the same function must have the same signature in both.
// The rest of it (structs by value, the assembler) is C-only: npk's table
// binds none of it, and nothing of it may slip into the table unchecked.
TEST_CASE("runtime externs: upstream's headers agree with npk/ on every name they share", "[externs]") {
    const auto ours = header_functions(header_list(NPK_RUNTIME_PUBLIC_HEADERS));
    const auto upstream = header_functions(header_list(NPK_RUNTIME_UPSTREAM_HEADERS));
    REQUIRE(upstream.size() >= 100);
    std::map<std::string, const RuntimeSymbol*> table;
    for (const RuntimeSymbol& rs : runtime_symbols()) table.emplace(rs.name, &rs);
    int shared = 0;
    for (const auto& [name, d] : upstream) {
        INFO(d.file << ": " << d.ret << " " << name << "(...)");
        auto it = ours.find(name);
        if (it == ours.end()) {
            CHECK(table.count(name) == 0);  // only npk/ functions are bound by npk
            continue;
        }
        ++shared;
        CHECK(d.ret == it->second.ret);
        CHECK(d.params == it->second.params);
    }
    CHECK(shared >= 11);  // npk_alloc, npk_free, the three wildx calls, the quota, five handle calls
}

TEST_CASE("runtime externs: the header reader sees through comments, macros and parameter names", "[externs]") {
    // The reader itself, on text shaped like the real headers.
    auto dir = std::filesystem::temp_directory_path() / ("npk-externs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir / "a.h") << "/* NPK_API int32_t not_me(void); */\n"
                                      "#define NPK_API __attribute__((visibility(\"default\")))\n"
                                      "// NPK_API void nor_me(void);\n"
                                      "NPK_API const char* f(int32_t code);\n"
                                      "NPK_API void   g(size_t bytes,\n"
                                      "                 const void* data, uint64_t* out);\n"
                                      "NPK_API size_t h(void);\n";
        std::ofstream(dir / "b.h") << "NPK_API int32_t elsewhere(void);\n";
    }
    auto decls = header_functions({dir / "a.h"});
    std::filesystem::remove_all(dir);
    REQUIRE(decls.size() == 3);
    CHECK(decls["f"].ret == "const char*");
    CHECK(decls["f"].params == std::vector<std::string>{"int32_t"});
    CHECK(decls["g"].ret == "void");
    CHECK(decls["g"].params == std::vector<std::string>{"size_t", "const void*", "uint64_t*"});
    CHECK(decls["h"].params.empty());
    CType c;
    CHECK_FALSE(ctype_of_c("struct thing", c));
}

}  // namespace npk::test
