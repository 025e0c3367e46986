#include "driver/cli.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "diag/diag.h"
#include "driver/loader.h"
#include "phases.h"
#include "run/externs.h"
#include "sema/sema.h"

#ifndef NPK_DRIVER_VERSION
#define NPK_DRIVER_VERSION "unknown"
#endif

namespace fs = std::filesystem;

static_assert(npk::kStatusOutOfMemory == npk::kExitInternal, "one status for 'out of memory'");

namespace npk {

namespace {

const char* const kUsage =
    "usage: npk check [options] FILE...\n"
    "       npk run [options] FILE [-- ARGS...]\n"
    "       npk --help | --version\n";

const char* const kHelp =
    "npk - reference driver for the Nitpick subset used by JIT programs\n"
    "\n"
    "usage: npk check [options] FILE...\n"
    "       npk run [options] FILE [-- ARGS...]\n"
    "       npk --help | --version\n"
    "\n"
    "commands:\n"
    "  check        lex, parse, resolve 'use', type check and lifecycle check\n"
    "               each FILE (a separate program each); run nothing\n"
    "  run          check FILE, then run its main; npk exits with the status\n"
    "               the program gives to 'exit' (0 if main falls off its end).\n"
    "               ARGS after '--' are accepted and ignored\n"
    "\n"
    "options:\n"
    "  -I DIR         search DIR for 'use' files (repeatable, in order)\n"
    "  --strict       also lifecycle-check Type and impl bodies and imported files\n"
    "  --unchecked    (run) skip the static lifecycle, borrow and handle checks\n"
    "                 (types are still checked): the run-time gate alone stands\n"
    "                 between the program and npk's memory and stops each memory\n"
    "                 error as FILE:LINE:COL: runtime error: ... (for teaching\n"
    "                 and for testing the gate); exit statuses are npk run's\n"
    "  --trace-drops  (run) one stderr line per drop at a block's end: drop.npk\n"
    "                 releases and impl:Drop methods, e.g.\n"
    "                 npk: drop wildx 'page' in main (prog.npk:7:11)\n"
    "  --load LIB.so  load a shared library whose symbols extern funcs may bind\n"
    "                 (repeatable)\n"
    "  --color=WHEN   colour diagnostics: auto (if stderr is a terminal), always, never\n"
    "  -h, --help     print this help and exit\n"
    "  --version      print the version and exit\n"
    "\n"
    "'use \"f.npk\"' is searched in: the importing file's folder, each -I DIR,\n"
    "each folder of NPK_PATH (colon-separated), then the stdlib folder:\n"
    "  %s\n"
    "\n"
    "exit status:\n"
    "  0   no errors (warnings are printed but do not fail)\n"
    "  1   the program has errors (each printed as FILE:LINE:COL: error: ...)\n"
    "  64  bad command line (unknown option, missing FILE, ...)\n"
    "  66  a FILE does not exist, is a directory, or cannot be read; a --load\n"
    "      library does not load\n"
    "  70  internal error in npk, or out of memory\n"
    "  N   npk run: the status the program exits with\n"
    "\n"
    "examples:\n"
    "  npk check bugs/bug264_jit_add_i32_smoke.npk\n"
    "  npk run bugs/bug264_jit_add_i32_smoke.npk; echo $?\n"
    "  npk run --unchecked tests/programs/gate_alias_double_free.npk\n"
    "  npk check -I ./lib --strict main.npk other.npk\n"
    "  NPK_PATH=/opt/npk/lib npk run --color=never app.npk -- ignored args\n";

enum class Color { Auto, Always, Never };

struct Command {
    bool run = false;
    bool help = false;
    bool version = false;
    Color color = Color::Auto;
    Options opts;
    std::vector<std::string> files;
};

[[noreturn]] void usage_error(const std::string& message) {
    throw std::invalid_argument(message);
}

// Parses ARGS; throws std::invalid_argument with a one-line reason on a
// usage error.
Command parse_args(int argc, char** argv) {
    Command c;
    std::vector<std::string> args(argv + 1, argv + argc);
    size_t i = 0;
    // Global options before the command.
    while (i < args.size() && !args[i].empty() && args[i][0] == '-') {
        if (args[i] == "--help" || args[i] == "-h") c.help = true;
        else if (args[i] == "--version") c.version = true;
        else usage_error("Unknown option '" + args[i] + "' before the command");
        ++i;
    }
    if (c.help || c.version) return c;
    if (i >= args.size()) usage_error("Missing command ('check' or 'run')");
    const std::string& cmd = args[i++];
    if (cmd == "help") {
        c.help = true;
        return c;
    }
    if (cmd == "run") c.run = true;
    else if (cmd != "check")
        usage_error("Unknown command '" + cmd + "' (the commands are 'check' and 'run')");

    bool after_dashes = false;
    for (; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (after_dashes) {
            if (!c.run) c.files.push_back(a);  // `npk check -- -odd-name.npk`
            continue;                          // npk run: the program's arguments, ignored
        }
        auto value = [&](const std::string& opt) -> std::string {
            if (i + 1 >= args.size()) usage_error("Option '" + opt + "' needs a value");
            return args[++i];
        };
        if (a == "--") {
            after_dashes = true;
        } else if (a == "-h" || a == "--help") {
            c.help = true;
        } else if (a == "--version") {
            c.version = true;
        } else if (a == "-I") {
            c.opts.include_dirs.push_back(value("-I"));
        } else if (a.size() > 2 && a.compare(0, 2, "-I") == 0) {
            c.opts.include_dirs.push_back(a.substr(2));
        } else if (a == "--strict") {
            c.opts.strict = true;
        } else if (a == "--unchecked") {
            c.opts.unchecked = true;
        } else if (a == "--trace-drops") {
            c.opts.trace_drops = true;
        } else if (a == "--load") {
            c.opts.load_libs.push_back(value("--load"));
        } else if (a.compare(0, 7, "--load=") == 0) {
            if (a.size() == 7) usage_error("Option '--load=' needs a value");
            c.opts.load_libs.push_back(a.substr(7));
        } else if (a.compare(0, 8, "--color=") == 0 || a == "--color") {
            std::string when = a == "--color" ? value("--color") : a.substr(8);
            if (when == "auto") c.color = Color::Auto;
            else if (when == "always") c.color = Color::Always;
            else if (when == "never") c.color = Color::Never;
            else usage_error("Invalid value '" + when + "' for --color (use auto, always or never)");
        } else if (a.size() > 1 && a[0] == '-') {
            usage_error("Unknown option '" + a + "'");
        } else {
            c.files.push_back(a);
        }
    }
    if (c.help || c.version) return c;
    if (c.files.empty()) usage_error(std::string("Missing FILE for 'npk ") + cmd + "'");
    if (c.opts.unchecked && !c.run) usage_error("'--unchecked' is an option of 'npk run' (npk check always checks)");
    if (c.run && c.files.size() > 1)
        usage_error("'npk run' takes one FILE (arguments for the program go after '--')");
    return c;
}

bool use_color(Color c) {
    if (c == Color::Always) return true;
    if (c == Color::Never) return false;
    return isatty(STDERR_FILENO) == 1;
}

// A message about npk's own input (no source position): "npk: error: ...".
void say_error(const std::string& message, bool color) {
    SourceManager none;
    Diagnostics diag(none);
    diag.error({}, "", message);
    diag.print(std::cerr, color);
}

// Checks (and for `run`, runs) one program. Returns the exit status.
int process_file(const std::string& path, const Command& c, bool color) {
    std::string text, why;
    if (read_source_file(path, text, why) != ReadStatus::Ok) {
        say_error("Cannot read '" + path + "': " + why, color);
        return kExitNoInput;
    }
    SourceManager sources;
    Diagnostics diag(sources);
    ast::Program prog;
    load_program_text(path, std::move(text), c.opts, sources, prog, diag);
    std::unique_ptr<Sema> sema;
    if (diag.error_count() == 0) sema = check_program(prog, c.opts, diag);
    diag.print(std::cerr, color);  // errors, or warnings of a clean program
    if (diag.error_count() != 0) return kExitErrors;
    if (!c.run) return kExitOk;

    // The program's own output follows; diagnostics of the run (a
    // missing symbol, a run-time fault) are printed as they happen.
    std::cout.flush();
    diag.stream_to(&std::cerr, color);
    return run_program(prog, *sema, c.opts, diag);
}

}  // namespace

std::string default_stdlib_dir() {
#ifdef NPK_INSTALL_STDLIB_REL
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        fs::path installed = exe.parent_path() / ".." / NPK_INSTALL_STDLIB_REL;
        if (fs::is_directory(installed, ec)) return installed.lexically_normal().string();
    }
#endif
#ifdef NPK_SOURCE_STDLIB_DIR
    return NPK_SOURCE_STDLIB_DIR;
#else
    return {};
#endif
}

int cli_main(int argc, char** argv) {
    try {
        Command c;
        try {
            c = parse_args(argc, argv);
        } catch (const std::invalid_argument& e) {
            say_error(e.what(), use_color(Color::Auto));
            std::cerr << kUsage << "Try 'npk --help' for more.\n";
            return kExitUsage;
        }
        if (c.help) {
            std::printf(kHelp, default_stdlib_dir().c_str());
            return kExitOk;
        }
        if (c.version) {
            std::printf("npk %s\n", NPK_DRIVER_VERSION);
            return kExitOk;
        }
        c.opts.stdlib_dir = default_stdlib_dir();
        bool color = use_color(c.color);
        // A --load library that does not load is bad input, whatever the
        // command: say so first, and plainly.
        for (const std::string& lib : c.opts.load_libs) {
            std::string why;
            void* h = load_library(lib, why);
            if (!h) {
                say_error(load_failure(lib, why), color);
                return kExitNoInput;
            }
            dlclose(h);
        }
        if (c.run) return process_file(c.files[0], c, color);
        int worst = kExitOk;
        for (const std::string& f : c.files) {
            int s = process_file(f, c, color);
            // Unreadable input outranks program errors.
            if (s == kExitNoInput || (s != kExitOk && worst == kExitOk)) worst = s;
        }
        return worst;
    } catch (const std::bad_alloc&) {
        // Not through Diagnostics: printing must not allocate here.
        std::fputs("npk: error: Out of memory\n", stderr);
        return kExitInternal;
    } catch (const std::exception& e) {
        say_error(std::string("Internal error: ") + e.what(), false);
        return kExitInternal;
    }
}

}  // namespace npk
