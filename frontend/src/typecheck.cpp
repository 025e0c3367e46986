// PLACEHOLDER until the type checker lands: reports that it is missing.
#include "sema.h"

namespace npk {
std::unique_ptr<Sema> check_types(const ast::Program&, const Options&, Diagnostics& diag) {
    diag.error({}, "", "type checker not implemented yet");
    return std::make_unique<Sema>();
}
}  // namespace npk
