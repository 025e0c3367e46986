// What runs when control leaves a scope, and in which order (§5.4, §9.3,
// DROP-DEC-010): written once, here, and read by both the control-flow
// graph (analysis/cfg.h), which the static checks walk, and the
// interpreter (run/interp.cpp), which runs it. What is checked is what
// runs.
//
// Each active scope keeps a record of what it registered so far, in
// registration order: a drop for each binding whose declaration made it
// an RAII binding (drop.npk, analysis/drops.h) or a value of a struct
// with an impl:Drop, and a defer for each `defer` statement. Which of
// them run when control leaves, and in which order, depends only on how
// it leaves:
//
//   - a scope ends (fall-through at its closing brace, or a break /
//     continue passing through it): its drops, newest first, then its
//     defers, newest first;
//   - pass / fail / return: the drops of every active scope, innermost
//     scope first and newest first within each, except the binding the
//     leave hands over (`pass x` / `return x` of a bare name); then the
//     defers of every active scope, innermost first, newest first;
//   - exit: nothing.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "analysis/drops.h"
#include "syntax/ast.h"

namespace npk {

struct Sema;
struct FuncInfo;

// One thing a scope registered: a drop of the binding in `slot`
// (declared by `decl`), or the defer whose body is `defer`.
struct ExitEntry {
    enum class What : uint8_t { Drop, Defer };
    What what = What::Drop;
    DropKind kind = DropKind::None;   // Drop: what it releases
    int32_t slot = -1;                // Drop: the binding's frame slot
    const ast::VarDecl* decl = nullptr;  // Drop: its declaration
    const ast::Block* defer = nullptr;   // Defer: the body
};

// What one active scope registered so far, in registration order.
struct ScopeRecord {
    std::vector<ExitEntry> entries;
};

// How control leaves: one scope ends, the function is left, or the
// program stops.
enum class ExitHow : uint8_t { ScopeEnd, Leave, Exit };

// Records what the declaration `d` (in function `fi`) registers: its
// RAII drop, then (registered last, so that its drop method runs before a
// free) the drop method of an impl:Drop struct value.
void register_decl(ScopeRecord& r, const ast::VarDecl& d, const Sema& s, const FuncInfo& fi,
                   const DropSwitches& on);

// Records a `defer` statement.
void register_defer(ScopeRecord& r, const ast::Defer& d);

// What runs, in order, when control leaves the scopes `active`
// (outermost first; for ScopeEnd only the last one ends) the way `how`
// says. `moved_slot` is the slot a Leave hands over (-1: none).
std::vector<ExitEntry> exit_schedule(std::span<const ScopeRecord> active, ExitHow how, int32_t moved_slot = -1);

// The slot `pass x` / `return x` hands over: x's when the operand is a
// bare name, else -1 (fail hands nothing over).
int32_t moved_slot(const ast::Leave& l, const Sema& s);

// A test hook: when set, the interpreter calls it at every scope exit it
// runs, before running `todo` (`at`: the scope's end, or the leave).
// Tests compare what it reports with the control-flow graph's exits.
using ExitObserver = void (*)(void* ctx, const ast::FuncDecl* fn, Loc at, ExitHow how,
                              const std::vector<ExitEntry>& todo);
void set_exit_observer(ExitObserver obs, void* ctx);
void observe_exit(const ast::FuncDecl* fn, Loc at, ExitHow how, const std::vector<ExitEntry>& todo);

}  // namespace npk
