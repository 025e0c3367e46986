// The npk command line: `npk check` and `npk run` over the phases of
// phases.h. main.cpp only calls cli_main; the logic lives in the
// library so that it sees the build's compile definitions (version,
// stdlib folders) and can be driven from tests and fuzz targets.
#pragma once

#include <string>

namespace npk {

// Exit statuses of npk itself (`npk run` otherwise exits with the
// program's own status). 64 and 66 follow BSD sysexits.h.
constexpr int kExitOk = 0;        // no errors (warnings allowed)
constexpr int kExitErrors = 1;    // the program has errors (diagnostics printed)
constexpr int kExitUsage = 64;    // bad command line
constexpr int kExitNoInput = 66;  // a FILE is missing, not a file or unreadable; a --load library does not load
constexpr int kExitInternal = 70; // a bug in npk (an exception escaped a phase), or out of memory

// Runs `npk ARGS...`; returns the exit status. Diagnostics go to stderr,
// --help and --version to stdout.
int cli_main(int argc, char** argv);

// The stdlib folder npk uses: <dir of the executable>/../NPK_INSTALL_STDLIB_REL
// when it exists (an installed npk), else the source tree's stdlib/.
std::string default_stdlib_dir();

}  // namespace npk
