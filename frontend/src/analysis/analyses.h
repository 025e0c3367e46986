// The analyses: passes over the type checker's facts (Sema), each in a
// file of its own, run in order by run_analyses() (phases.h). A new
// analysis is one more function here and one more line in analyses.cpp;
// it reads each body's control-flow graph (cfg.h: Shared hands out the
// one built for the check), a flow analysis as a lattice on the dataflow
// engine (dataflow.h), and reads names, slots and callees from Sema,
// never resolving anything again.
#pragma once

#include <memory>

#include "analysis/cfg.h"
#include "analysis/drops.h"
#include "analysis/returns.h"
#include "diag/diag.h"
#include "phases.h"
#include "sema/sema.h"
#include "syntax/ast.h"

namespace npk {

// What the analyses of one check share, each built once and on first
// use: every function's control-flow graph, and which parameters each
// function may return (returns.h).
class Shared {
public:
    Shared(const ast::Program& prog, const Sema& sema)
        : prog_(prog), sema_(sema), graphs(sema, drop_switches(prog)) {}
    const ReturnSummaries& returns() {
        if (!returns_) returns_ = std::make_unique<ReturnSummaries>(return_summaries(prog_, sema_, graphs));
        return *returns_;
    }

private:
    const ast::Program& prog_;
    const Sema& sema_;

public:
    Graphs graphs;

private:
    std::unique_ptr<ReturnSummaries> returns_;
};

// Lifecycle of what wild / wildx bindings own (§8.2): ARIA-014, ARIA-015,
// ARIA-022 and the W^X page state, over may-alias sets of resources
// (analysis/ownership.h). Checks the root file's top-level functions, or
// every body with strict.
void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                     Shared& shared);
void check_lifecycle(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag);

// Mutable-xor-shared borrows ($$m / $$i) of one binding (ARIA-023).
void check_borrows(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                   Shared& shared);

// Handles that outlive their arena (ARIA-032): use after the arena's
// destroy (also by a callee), a handle into a local arena passed out, a
// Handle<T> handed to C (a warning).
void check_handles(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                   Shared& shared);

// A value of a struct with an impl:Drop is never copied (drop_copies.cpp).
void check_drop_copies(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag,
                       Shared& shared);

}  // namespace npk
