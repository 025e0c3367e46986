// libFuzzer target: one input is the text of a root file, run through
// every checking phase `npk check` runs (load, then check_program:
// types and the analyses), in process. It never runs the program.
//
// Build (clang only):  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++
//                            -DCMAKE_C_COMPILER=clang -DNPK_BUILD_FUZZERS=ON
//                      cmake --build build-fuzz --target npk_fuzz_check
// Run:                 build-fuzz/tests/fuzz/npk_fuzz_check -max_len=4096 \
//                          -timeout=10 corpus/ tests/programs tests/frontend/data
// (the first folder collects new inputs; the rest seed it.)
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "diag/diag.h"
#include "driver/loader.h"
#include "phases.h"
#include "sema/sema.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    npk::SourceManager sources;
    npk::Diagnostics diag(sources);
    npk::ast::Program prog;
    npk::Options opts;
#ifdef NPK_SOURCE_STDLIB_DIR
    opts.stdlib_dir = NPK_SOURCE_STDLIB_DIR;
#endif
    // The root lives in a folder that does not exist: a `use` finds
    // nothing but the stdlib, whatever the machine holds.
    std::string text(reinterpret_cast<const char*>(data), size);
    npk::load_program_text("/nonexistent-npk-fuzz/input.npk", std::move(text), opts, sources, prog, diag);
    if (diag.error_count() == 0) npk::check_program(prog, opts, diag);
    std::ostringstream out;
    diag.print(out, false);
    return 0;
}
