// PLACEHOLDER until the interpreter lands: reports that it is missing.
#include "sema.h"

namespace npk {
int run_program(const ast::Program&, const Sema&, const Options&, Diagnostics& diag) {
    diag.error({}, "", "interpreter not implemented yet");
    return 1;
}
}  // namespace npk
