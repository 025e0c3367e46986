// PLACEHOLDER until the lifecycle checker lands: reports that it is missing.
#include "phases.h"

namespace npk {
void check_lifecycle(const ast::Program&, const Options&, Diagnostics& diag) {
    diag.error({}, "", "lifecycle checker not implemented yet");
}
}  // namespace npk
