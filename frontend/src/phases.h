// The phases of npk, as the driver calls them (nitpick-subset.md §8.1):
//
//   load (lex, parse, resolve `use`) → check_types (types, entry points)
//   → run_analyses (lifecycle: ARIA-014/015/022, ...) → run
//
// check_program runs the middle two. Each phase reports into the shared
// Diagnostics and keeps going within itself; a phase runs only if the
// ones before it reported no error, and the program only if no phase did.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "syntax/ast.h"
#include "diag/diag.h"

namespace npk {

struct Options {
    bool strict = false;                   // --strict: check Type bodies and imports too
    bool trace_drops = false;              // --trace-drops: one stderr line per drop run
    bool unchecked = false;                // --unchecked (run): types only, no static analyses;
                                           // the run-time gate alone guards npk's memory
    std::vector<std::string> include_dirs; // -I DIR, in order
    std::vector<std::string> load_libs;    // --load LIB.so, in order
    std::string stdlib_dir;                // built-in stdlib folder (last in the search)
};

// Reads `root_path`, lexes and parses it and every file it imports
// (`use`, resolved per §3), into `out`. Returns false if any error was
// reported (missing or unreadable file, bad UTF-8, syntax, cycle).
bool load_program(const std::string& root_path, const Options& opts,
                  SourceManager& sources, ast::Program& out, Diagnostics& diag);

// Facts the type checker records for later phases (defined in sema.h).
struct Sema;

// Types and conversions (§4–§6), then entry points (§6.1). Returns the
// facts even when errors were reported (the driver stops on errors).
std::unique_ptr<Sema> check_types(const ast::Program& prog, const Options& opts,
                                  Diagnostics& diag);

// The analyses over the checker's facts (analysis/analyses.h), in order,
// each only if the ones before reported no error.
void run_analyses(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag);

// Every checking phase of `npk check` after the load: check_types, then
// run_analyses if the types are clean. Returns the facts (for
// run_program); the caller asks diag.error_count() whether to go on.
std::unique_ptr<Sema> check_program(const ast::Program& prog, const Options& opts, Diagnostics& diag);

// The status run_program returns when memory ran out while the program
// ran (npk's own exit status for that, kExitInternal in driver/cli.h).
constexpr int kStatusOutOfMemory = 70;

// Binds every extern (before main starts), then runs `main`. Returns
// the process exit status the program asked for: the operand of `exit`
// (which stops the program at once, running no defer or drop), or 0 when
// main falls off its end. Load-time errors (a missing symbol) are
// reported to `diag` and give status 1 without running anything. The
// driver passes the status to exit(), as a compiled program would. If
// an allocation fails on the interpreter thread, it prints
// "npk: error: Out of memory" and returns kStatusOutOfMemory.
int run_program(const ast::Program& prog, const Sema& sema, const Options& opts,
                Diagnostics& diag);

}  // namespace npk
