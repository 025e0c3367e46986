// fail.h — how the code generator makes its errors (private).
//
// Every -1 / NULL of npk/jitbuild.h goes through fail(): it formats the
// reason and hands it to the runtime's one error path (facility
// NPK_FACILITY_BUILDER). A breakpoint on npk::codegen::fail catches them.
#pragma once

#include <cstdint>

namespace npk::codegen {

// Makes an error for the C function `op` about `subject` (a pointer,
// printed 0x…; 0 prints nothing) with status `code` and a printf-style
// reason. Returns -1.
int32_t fail(const char* op, const void* subject, int32_t code, const char* fmt = nullptr, ...)
    __attribute__((format(printf, 4, 5)));

// The text of the calling thread's last code generator error.
const char* last_message();

}  // namespace npk::codegen
