// Helpers for the lifecycle-check tests (test_lifecycle_check*.cpp):
// load a program, type check it for the facts the lifecycle check reads,
// run check_lifecycle, and find a diagnostic by position in the source
// text itself (`at`), so a test names the very token it expects.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/analyses.h"
#include "test_util.h"

namespace npk::test {

using npk::Severity;



struct At {
    uint32_t line = 0;
    uint32_t col = 0;
};

// Line and column of the nth occurrence (from 1) of `needle` in `src`.
inline At at(std::string_view src, std::string_view needle, int nth = 1) {
    size_t pos = std::string_view::npos;
    size_t from = 0;
    for (int i = 0; i < nth; ++i) {
        pos = src.find(needle, from);
        REQUIRE(pos != std::string_view::npos);
        from = pos + 1;
    }
    At a{1, 1};
    for (size_t i = 0; i < pos; ++i) {
        if (src[i] == '\n') {
            ++a.line;
            a.col = 1;
        } else {
            ++a.col;
        }
    }
    return a;
}

inline std::unique_ptr<Loaded> life(std::string_view src,
                             const std::vector<std::pair<std::string, std::string>>& extra = {},
                             bool strict = false) {
    auto l = npk::test::load_text(src, extra, strict);
    INFO(npk::test::dump(*l));
    REQUIRE(l->loaded);
    REQUIRE(l->diag.error_count() == 0);
    // The lifecycle check reads the type checker's facts (slots, callees).
    // Its own messages are what these tests are about, and the programs
    // stay small (no failsafe, a few undeclared helpers): the type
    // checker reports into a diagnostics list of its own.
    npk::Diagnostics type_diag(l->sources);
    l->sema = npk::check_types(l->prog, l->opts, type_diag);
    npk::check_lifecycle(l->prog, *l->sema, l->opts, l->diag);
    return l;
}

inline std::unique_ptr<Loaded> life_strict(std::string_view src,
                                    const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    return life(src, extra, true);
}

inline size_t count(const Loaded& l, Severity s, std::string_view code = "") {
    return static_cast<size_t>(std::count_if(l.diag.all().begin(), l.diag.all().end(), [&](const auto& d) {
        return d.severity == s && (code.empty() || d.code == code);
    }));
}

inline size_t errors(const Loaded& l, std::string_view code = "") { return count(l, Severity::Error, code); }

inline bool has_error(const Loaded& l, std::string_view code, At a, std::string_view fragment) {
    return npk::test::has_error(l, code, a.line, a.col, fragment);
}

// The error (code, position, text) is followed, among its notes, by one
// at `n` whose text contains `note`.
inline bool error_with_note(const Loaded& l, std::string_view code, At a, std::string_view fragment, At n,
                     std::string_view note) {
    const auto& all = l.diag.all();
    for (size_t i = 0; i < all.size(); ++i) {
        const auto& d = all[i];
        if (d.severity == Severity::Note || d.code != code || d.loc.line != a.line || d.loc.col != a.col ||
            d.message.find(fragment) == std::string::npos)
            continue;
        for (size_t j = i + 1; j < all.size() && all[j].severity == Severity::Note; ++j)
            if (all[j].loc.line == n.line && all[j].loc.col == n.col &&
                all[j].message.find(note) != std::string::npos)
                return true;
    }
    return false;
}

constexpr std::string_view kDouble = "Double free of variable 'p' (already freed)";
constexpr std::string_view kUaf = "Use after free: variable 'p' was already freed";
constexpr std::string_view kUnknown =
    "Use of wild pointer 'p' with unknown state (may have been freed or moved in a branch)";
constexpr std::string_view kEarly =
    "Memory leak on early exit: wild variable 'p' was not freed before pass/fail/return/exit";
constexpr std::string_view kScope = "Memory leak: wild variable 'p' was not freed before scope exit";
constexpr std::string_view kConditional =
    "Defer block contains conditional/loop - free of 'p' may not execute on all paths";

}  // namespace npk::test
