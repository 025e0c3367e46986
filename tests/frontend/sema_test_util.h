// Helpers for the type-checker and interpreter tests: load a program from
// text, run check_types on it (and only that phase: these tests are about
// types and run-time behaviour, not lifecycle), then run it in-process
// with stdout and stderr captured.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_util.h"

namespace npk::test {

// The failsafe every root program needs (§6.1), for appending after main.
inline constexpr std::string_view kFailsafe = "\nfunc:failsafe = int32(tbb32:err) {\n    exit 1;\n};\n";

// `body` becomes main's body, then failsafe follows. With no `before`,
// main starts on line 1, so body line k is file line k + 1.
inline std::string in_main(const std::string& body, const std::string& before = "") {
    return before + "func:main = int32() {\n" + body + "};\n" + std::string(kFailsafe);
}

// The top-level function `name` of any module (null if none).
inline const ast::FuncDecl* function_named(const ast::Program& prog, const std::string& name) {
    for (const auto& m : prog.modules)
        for (const auto& f : m->funcs)
            if (f->name == name) return f.get();
    return nullptr;
}

// An error (any code) at this line and column (0: any) with this text.
inline bool err(const Loaded& l, uint32_t line, uint32_t col, std::string_view fragment) {
    return has_error(l, "", line, col, fragment);
}

// Loads `text` as main.npk (plus `extra` files beside it) and type-checks
// it. The load itself must succeed: these tests are not about syntax.
inline std::unique_ptr<Loaded> typecheck(std::string_view text,
                                         const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    auto l = load_text(text, extra);
    INFO(dump(*l));
    REQUIRE(l->loaded);
    REQUIRE(l->diag.error_count() == 0);
    l->sema = check_types(l->prog, l->opts, l->diag);
    return l;
}

// Type-checks and expects no error at all.
inline std::unique_ptr<Loaded> typecheck_ok(std::string_view text,
                                            const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    auto l = typecheck(text, extra);
    INFO(dump(*l));
    CHECK(l->diag.error_count() == 0);
    return l;
}

// Captures what the process writes to one file descriptor while alive.
class Capture {
public:
    explicit Capture(int fd) : fd_(fd) {
        std::fflush(nullptr);
        file_ = std::tmpfile();
        REQUIRE(file_ != nullptr);
        saved_ = dup(fd_);
        REQUIRE(saved_ >= 0);
        REQUIRE(dup2(fileno(file_), fd_) >= 0);
    }
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;
    ~Capture() { restore(); }

    std::string finish() {
        restore();
        std::string out;
        std::rewind(file_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) out.append(buf, n);
        return out;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(nullptr);
        dup2(saved_, fd_);
        close(saved_);
        saved_ = -1;
    }
    int fd_;
    int saved_ = -1;
    FILE* file_ = nullptr;
};

struct RunOutcome {
    int status = -1;
    std::string out, err;   // what the program wrote to stdout / stderr
    std::unique_ptr<Loaded> loaded;
};

// Type-checks `text` (which must pass) and runs it with run_program.
inline RunOutcome run_text(std::string_view text,
                           const std::vector<std::pair<std::string, std::string>>& extra = {},
                           std::vector<std::string> load_libs = {}) {
    RunOutcome r;
    r.loaded = typecheck(text, extra);
    {
        INFO(dump(*r.loaded));
        REQUIRE(r.loaded->diag.error_count() == 0);
    }
    r.loaded->opts.load_libs = std::move(load_libs);
    Capture out(1), err(2);
    // As npk run does: each diagnostic of the run on stderr when it happens.
    r.loaded->diag.stream_to(&std::cerr, false);
    r.status = run_program(r.loaded->prog, *r.loaded->sema, r.loaded->opts, r.loaded->diag);
    r.loaded->diag.stream_to(nullptr, false);
    r.out = out.finish();
    r.err = err.finish();
    return r;
}

}  // namespace npk::test
