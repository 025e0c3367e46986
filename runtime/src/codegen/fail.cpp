// fail.cpp — the code generator's errors, through the runtime's one error path.
#include "codegen/fail.h"

#include <npk/status.h>

#include "core/errors.h"

#include <cstdarg>
#include <cstdio>

namespace npk::codegen {

int32_t fail(const char* op, const void* subject, int32_t code, const char* fmt, ...) {
    char detail[400] = "";
    if (fmt != nullptr) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    const Subject s = subject != nullptr ? Subject::pointer(subject) : Subject::none();
    return npk::fail(NPK_FACILITY_BUILDER, op, s, code, fmt != nullptr ? detail : nullptr);
}

const char* last_message() { return npk::last_error_message(); }

}  // namespace npk::codegen
