#include "analysis/analyses.h"

namespace npk {

// §8.1: each analysis runs only if the ones before it reported nothing.
void run_analyses(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    using Analysis = void (*)(const ast::Program&, const Sema&, const Options&, Diagnostics&, Shared&);
    static constexpr Analysis kInOrder[] = {check_drop_copies, check_lifecycle, check_borrows, check_handles};
    Shared shared(prog, sema);  // graphs and summaries, built once for all
    for (Analysis a : kInOrder) {
        if (diag.error_count() != 0) return;
        a(prog, sema, opts, diag, shared);
    }
}

}  // namespace npk
