// builder.h — the builder object behind npk_jit_builder (private).
#pragma once

#include <npk/jitbuild.h>

#include "codegen/program.h"
#include "tools/tools.h"

struct npk_jit_builder {
    npk::codegen::Program prog;
    int32_t error = 0;     // the first error's status (sticky), 0 while none
    char first[512] = "";  // the first error's message
    char name[npk::tools::kMaxName + 1] = "";  // npk_jit_builder_name; "" for the default name
};

namespace npk::codegen {

// Records `code` as the builder's sticky error (if it has none yet) and
// reports it for `op`. Returns -1.
int32_t stick(npk_jit_builder* b, const char* op, int32_t code, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// Checks the builder before build / region_add: not NULL, no sticky
// error, every label jumped to bound. Reports for `op` and returns -1
// otherwise (the builder is not freed).
int32_t check_complete(npk_jit_builder* b, const char* op);

void destroy(npk_jit_builder* b);

}  // namespace npk::codegen
