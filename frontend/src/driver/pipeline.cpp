#include "phases.h"
#include "sema/sema.h"

namespace npk {

std::unique_ptr<Sema> check_program(const ast::Program& prog, const Options& opts, Diagnostics& diag) {
    size_t before = diag.error_count();
    std::unique_ptr<Sema> sema = check_types(prog, opts, diag);
    if (diag.error_count() == before && !opts.unchecked) run_analyses(prog, *sema, opts, diag);
    return sema;
}

}  // namespace npk
