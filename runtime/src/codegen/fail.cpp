// fail.cpp — the code generator's errors, handed to the runtime's one error path.
#include "fail.h"

#include "../errors.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace npk::codegen {
namespace {
thread_local char t_message[512];
}

int32_t fail(const char* op, const void* subject, int32_t code, const char* fmt, ...) {
    char detail[400] = "";
    if (fmt != nullptr) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    const uintptr_t s = reinterpret_cast<uintptr_t>(subject);
    if (s != 0) {
        std::snprintf(t_message, sizeof t_message, "%s(0x%" PRIxPTR ") rejected: %s", op, s, detail);
    } else {
        std::snprintf(t_message, sizeof t_message, "%s rejected: %s", op, detail);
    }
    return wildx::fail(wildx::Op::install, s, code, t_message);
}

const char* last_message() { return t_message; }

}  // namespace npk::codegen
