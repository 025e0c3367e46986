// tools.h — what the code generator tells the debugging and profiling
// tools (private): code became executable, code is going away.
//
// The code generator calls these at two points only: when an allocation
// of built code becomes EXECUTABLE and its functions are published
// (npk_jit_build, each region chunk at seal), and when that allocation
// is freed, before it is unmapped (codegen/code_index.cpp forget()).
// Behind them, each tool is its own file: the perf map and jitdump
// (perf.cpp, NPK_JIT_PERF) and the GDB JIT interface (gdb_jit.cpp,
// NPK_JIT_GDB). A tool that fails (a file it cannot write, no memory for
// an image) says so once on stderr and stops; it never fails the build:
// the code runs the same without it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk::tools {

// Function names: 1..kMaxName bytes of printable ASCII without space
// (0x21..0x7E), so that a name is one token in a perf map line, a gdb
// command and an ELF string table. Unnamed functions are
// "jit_fn_<address in hex>".
inline constexpr size_t kMaxName = 127;

// Why `name` is not a valid function name, or nullptr if it is.
const char* name_problem(const char* name);

// Writes "jit_fn_<hex start>" to buf (at least kDefaultNameSize bytes).
inline constexpr size_t kDefaultNameSize = 7 + 16 + 1;
void default_name(uintptr_t start, char* buf);

// One function of an allocation. `name` nullptr: the default name.
struct CodeSpan {
    uintptr_t start;
    size_t size;
    const char* name;
};

// `name` itself, or the default name of `start` written to buf (at least
// kDefaultNameSize bytes) when `name` is nullptr.
const char* name_or_default(const char* name, uintptr_t start, char* buf);

// Whether any tool wants to hear of code (NPK_JIT_PERF, NPK_JIT_GDB, read
// once): callers skip building CodeSpans when not.
bool active();

// The `n` functions of the allocation at `base` (`span` usable bytes) are
// EXECUTABLE. Called once per allocation, by the thread that sealed it.
void code_published(uintptr_t base, size_t span, const CodeSpan* fns, size_t n);

// The allocation at `base`, published before, is about to be unmapped.
void code_retired(uintptr_t base);

}  // namespace npk::tools
