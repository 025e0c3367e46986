// What is checked is what runs (issue 16): at every scope exit the
// interpreter runs, the drops and defers it runs are, in order, the ones
// the control-flow graph (analysis/cfg.h) put on that exit -- the graph
// the static checks walk. Both take the order from exit_schedule
// (analysis/scope_exits.h); this test shows that they also register the
// same things, on every program of tests/programs/, bugs/, examples/ and
// the unit tests' data, and (NPK_CFG_AGREE_DIR=DIR) on every .npk in DIR,
// e.g. a corpus written by `npk_program_fuzz --show --seed S`.
//
// Each program runs in a child process (a program may fault, or loop);
// the interpreter's exit observer writes one line per exit, and the
// parent, which loaded and checked the same program before the fork (so
// the tree's addresses agree), looks each line up among the graph's.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "analysis/cfg.h"
#include "analysis/drops.h"
#include "analysis/scope_exits.h"
#include "sema_test_util.h"

using namespace npk;
using namespace npk::test;

namespace {

std::string exit_line(const ast::FuncDecl* fn, Loc at, ExitHow how, const std::vector<ExitEntry>& todo) {
    std::string s = std::to_string(reinterpret_cast<uintptr_t>(fn)) + " " + std::to_string(at.file) + ":" +
                    std::to_string(at.line) + ":" + std::to_string(at.col) + " " +
                    std::to_string(static_cast<int>(how));
    for (const ExitEntry& e : todo) {
        if (e.what == ExitEntry::What::Drop)
            s += " drop" + std::to_string(static_cast<int>(e.kind)) + "/" + std::to_string(e.slot);
        else
            s += " defer" + std::to_string(e.defer->loc.line) + ":" + std::to_string(e.defer->loc.col);
    }
    return s;
}

void write_exit(void* ctx, const ast::FuncDecl* fn, Loc at, ExitHow how, const std::vector<ExitEntry>& todo) {
    std::fprintf(static_cast<FILE*>(ctx), "%s\n", exit_line(fn, at, how, todo).c_str());
}

std::vector<const ast::FuncDecl*> bodies(const ast::Program& prog) {
    std::vector<const ast::FuncDecl*> out;
    for (const auto& m : prog.modules) {
        for (const auto& f : m->funcs) out.push_back(f.get());
        for (const auto& t : m->types)
            for (const auto& f : t.methods) out.push_back(f.get());
        for (const auto& i : m->impls)
            for (const auto& f : i.methods) out.push_back(f.get());
    }
    return out;
}

struct Tally {
    size_t programs = 0, run = 0, exits = 0, scheduled = 0;
    std::vector<std::string> mismatches;
};

// Runs `path` in a child with the observer on; compares in the parent.
void agree(const std::filesystem::path& path, Tally& t) {
    Loaded l;
    l.path = path.string();
    l.opts.stdlib_dir = NPK_SOURCE_STDLIB_DIR;
    l.opts.include_dirs.push_back(path.parent_path().string());
    l.loaded = load_program(l.path, l.opts, l.sources, l.prog, l.diag);
    ++t.programs;
    if (!l.loaded || l.diag.error_count() != 0) return;
    l.sema = check_types(l.prog, l.opts, l.diag);
    if (l.diag.error_count() != 0 || !l.sema->main) return;

    std::set<std::string> graph;
    const DropSwitches on = drop_switches(l.prog);
    for (const ast::FuncDecl* f : bodies(l.prog)) {
        if (!f->body || !l.sema->funcs.count(f)) continue;
        const Cfg g = build_cfg(*f, *l.sema, on);
        for (const Cfg::Exit& e : g.exits) graph.insert(exit_line(f, e.at, e.how, e.todo));
    }

    const std::filesystem::path log = make_temp_dir() / "exits.txt";
    std::fflush(nullptr);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        FILE* out = std::fopen(log.c_str(), "w");
        if (!out) _exit(3);
        std::freopen("/dev/null", "w", stdout);
        std::freopen("/dev/null", "w", stderr);
        alarm(10);
        set_exit_observer(write_exit, out);
        run_program(l.prog, *l.sema, l.opts, l.diag);
        std::fclose(out);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ++t.run;
    std::ifstream in(log);
    // Exits that run nothing are left out: as pass / fail / return
    // unwinds, each scope it leaves ends with nothing left to run (the
    // Leave ran it all), and the graph has no such exit to compare with.
    for (std::string line; std::getline(in, line);) {
        ++t.exits;
        if (line.find(" drop") == std::string::npos && line.find(" defer") == std::string::npos) continue;
        ++t.scheduled;
        if (!graph.count(line)) t.mismatches.push_back(path.string() + ": ran " + line);
    }
    std::filesystem::remove_all(log.parent_path());
}

void agree_dir(const std::filesystem::path& dir, Tally& t) {
    if (!std::filesystem::is_directory(dir)) return;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".npk") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) agree(f, t);
}

}  // namespace

TEST_CASE("cfg: every scope exit the interpreter runs is one the graph has, with the same schedule", "[cfg]") {
    Tally t;
    const std::filesystem::path src = std::filesystem::path(NPK_SOURCE_STDLIB_DIR).parent_path();
    agree_dir(NPK_TEST_PROGRAMS_DIR, t);
    agree_dir(NPK_BUGS_DIR, t);
    agree_dir(src / "examples", t);
    agree_dir(NPK_TEST_DATA_DIR, t);
    if (const char* extra = std::getenv("NPK_CFG_AGREE_DIR")) agree_dir(extra, t);
    INFO("programs " << t.programs << ", run " << t.run << ", exits " << t.exits << ", with drops or defers "
                     << t.scheduled);
    for (size_t i = 0; i < t.mismatches.size() && i < 20; ++i) UNSCOPED_INFO(t.mismatches[i]);
    CHECK(t.mismatches.empty());
    // The corpus exercises what it claims to: many programs, exits with
    // drops and defers among them.
    CHECK(t.run > 100);
    CHECK(t.scheduled > 25);
    WARN("programs " << t.programs << ", run " << t.run << ", exits " << t.exits << ", with drops or defers "
                     << t.scheduled);
}
