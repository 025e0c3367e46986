// tools.cpp — function names, and the dispatch from the code generator's
// two events to the tools switched on (tools.h).
#include "tools/tools.h"

#include "core/config.h"
#include "tools/sinks.h"

#include <cinttypes>
#include <cstdio>

namespace npk::tools {

const char* name_problem(const char* name) {
    if (name == nullptr) return "NULL";
    size_t n = 0;
    for (; name[n] != '\0'; ++n) {
        if (n == kMaxName) return "longer than 127 bytes";
        const auto c = static_cast<unsigned char>(name[n]);
        if (c < 0x21 || c > 0x7E) return "a byte outside printable ASCII without space (0x21..0x7E)";
    }
    return n == 0 ? "empty" : nullptr;
}

void default_name(uintptr_t start, char* buf) {
    std::snprintf(buf, kDefaultNameSize, "jit_fn_%" PRIxPTR, start);
}

const char* name_or_default(const char* name, uintptr_t start, char* buf) {
    if (name != nullptr) return name;
    default_name(start, buf);
    return buf;
}

bool active() { return config::get(config::jit_perf) != 0 || config::get(config::jit_gdb) != 0; }

void code_published(uintptr_t base, size_t span, const CodeSpan* fns, size_t n) {
    if (const size_t perf = config::get(config::jit_perf)) {
        if ((perf & config::kPerfMap) != 0) perf_map_publish(fns, n);
        if ((perf & config::kPerfJitdump) != 0) jitdump_publish(fns, n);
    }
    if (config::get(config::jit_gdb) != 0) gdb_publish(base, span, fns, n);
}

// perf has no record for code going away (a later load at the same
// address wins); gdb must forget it, whatever the setting is by now.
void code_retired(uintptr_t base) { gdb_retire(base); }

}  // namespace npk::tools
