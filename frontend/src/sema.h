// Facts the type checker records for the interpreter (side tables
// indexed by Expr/Stmt id). PLACEHOLDER: the type-checker work replaces it.
#pragma once

#include "phases.h"

namespace npk {
struct Sema {};
}  // namespace npk
