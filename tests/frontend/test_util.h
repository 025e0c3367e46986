// Shared helpers for the front-end unit tests: write a program to a
// fresh temporary folder, load it as npk would, run the checking phases,
// and look for a diagnostic by code, position and text.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ast.h"
#include "diag.h"
#include "phases.h"
#include "sema.h"

namespace npk::test {

// A program loaded from text, with everything the phases need. Not
// movable (Diagnostics refers to sources): always behind a unique_ptr.
struct Loaded {
    std::filesystem::path dir;   // the temporary folder holding main.npk
    std::string path;            // dir / "main.npk"
    Options opts;
    SourceManager sources;
    Diagnostics diag{sources};
    ast::Program prog;
    std::unique_ptr<Sema> sema;
    bool loaded = false;

    ~Loaded() {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

inline std::filesystem::path make_temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "npk-test-XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    REQUIRE(made != nullptr);
    return made;
}

inline void write_file(const std::filesystem::path& p, std::string_view text) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

// Writes `text` as main.npk (and `extra` files, relative paths, beside
// it) into a fresh temporary folder and loads it (lex, parse, `use`).
// The stdlib folder is the source tree's stdlib/.
inline std::unique_ptr<Loaded> load_text(
    std::string_view text,
    const std::vector<std::pair<std::string, std::string>>& extra = {},
    bool strict = false) {
    auto l = std::make_unique<Loaded>();
    l->dir = make_temp_dir();
    l->path = (l->dir / "main.npk").string();
    write_file(l->path, text);
    for (const auto& [name, body] : extra) write_file(l->dir / name, body);
    l->opts.strict = strict;
#ifdef NPK_SOURCE_STDLIB_DIR
    l->opts.stdlib_dir = NPK_SOURCE_STDLIB_DIR;
#endif
    l->loaded = load_program(l->path, l->opts, l->sources, l->prog, l->diag);
    return l;
}

// load_text, then every checking phase the driver would run, stopping at
// the first phase that reports an error (as npk check does).
inline std::unique_ptr<Loaded> check_text(
    std::string_view text,
    const std::vector<std::pair<std::string, std::string>>& extra = {},
    bool strict = false) {
    auto l = load_text(text, extra, strict);
    if (!l->loaded || l->diag.error_count() != 0) return l;
    l->sema = check_types(l->prog, l->opts, l->diag);
    if (l->diag.error_count() != 0) return l;
    check_lifecycle(l->prog, l->opts, l->diag);
    return l;
}

// All diagnostics as text lines (FILE:L:C: severity: [CODE] message),
// for failure messages.
inline std::string dump(const Loaded& l) {
    std::string s;
    for (const auto& d : l.diag.all()) s += l.diag.format_line(d) + "\n";
    return s;
}

// True if some diagnostic of `severity` has this code (empty: any), this
// line and column (0: any) and a message containing `fragment`.
inline bool has_diag(const Loaded& l, Severity severity, std::string_view code,
                     uint32_t line, uint32_t col, std::string_view fragment) {
    for (const auto& d : l.diag.all()) {
        if (d.severity != severity) continue;
        if (!code.empty() && d.code != code) continue;
        if (line != 0 && d.loc.line != line) continue;
        if (col != 0 && d.loc.col != col) continue;
        if (d.message.find(fragment) == std::string::npos) continue;
        return true;
    }
    return false;
}

inline bool has_error(const Loaded& l, std::string_view code, uint32_t line, uint32_t col,
                      std::string_view fragment) {
    return has_diag(l, Severity::Error, code, line, col, fragment);
}

}  // namespace npk::test
