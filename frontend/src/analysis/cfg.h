// The control-flow graph of one function, built once after type checking
// (issue 16): what the flow analyses walk (analysis/dataflow.h).
//
// A graph is basic blocks of events, in the order they happen at run
// time, and edges between them:
//
//   - an expression is lowered to one Eval event per node, after the
//     nodes it evaluates first (ast::for_each_child's order): the
//     analyses see `f(p)` as Eval(p), then Eval(f(p)). `&&` and `||`
//     are branches: the right operand has its own block, entered only
//     when the left one does not decide;
//   - a declaration is Declare, after its initializer;
//   - every way out of a scope is explicit, and carries what runs there
//     in the order it runs (analysis/scope_exits.h, the schedule the
//     interpreter runs too): a Drop event per binding released, and the
//     body of each defer, lowered again at that exit between a
//     DeferBegin and a DeferEnd event. A scope's closing brace, a break
//     or a continue passing through it, and pass / fail / return (every
//     active scope) each get their own copy; `exit` gets none;
//   - a scope's end is a ScopeEnd event just before its drops and
//     defers (at its closing brace and on break / continue; pass / fail
//     / return end every scope at once, before the whole schedule):
//     what the scope declared is out of reach when they run;
//   - a `defer` statement is a DeferWritten event where it is written
//     (what its body releases is owed no more from there on). Just
//     before it, a copy of its body branches off into probe blocks that
//     lead nowhere: upstream checks a defer body where it is written,
//     against the state there, and an analysis that does the same walks
//     them (dataflow.h, kProbes); the others never enter them. The body
//     runs at the exits: lowered again at each;
//   - pass / fail / return / exit are a Leave event, after the operand is
//     evaluated and before the scope exits run, then an edge to the exit
//     block;
//   - `if` and `while` conditions end a block with two successors (a
//     literal `true` or `false`: one); the end of a loop body and
//     `continue` take a back edge to the condition.
//
// Nodes are visited through ast::visit, so a new statement or expression
// kind does not compile until the builder lowers it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "analysis/drops.h"
#include "analysis/scope_exits.h"
#include "diag/diag.h"
#include "syntax/ast.h"

namespace npk {

struct Sema;

enum class EventKind : uint8_t {
    Eval,        // `expr` is evaluated (its operands before it)
    Declare,     // `decl` binds its slot (the initializer was evaluated)
    Drop,        // `entry` releases `entry.slot` at a scope exit (`at`)
    DeferBegin,  // the body of `entry.defer` starts running at `at`
    DeferEnd,    // ... and ends
    Leave,       // `leave` leaves the function (its operand evaluated)
    ScopeEnd,    // the scopes at nesting `depth` and deeper end (before their drops and defers)
    DeferWritten,  // the `defer` statement `entry.defer` is reached (at `at`): its body runs later
};

struct Event {
    EventKind kind = EventKind::Eval;
    const ast::Expr* expr = nullptr;      // Eval
    const ast::VarDecl* decl = nullptr;   // Declare
    const ast::Leave* leave = nullptr;    // Leave
    ExitEntry entry{};                    // Drop, DeferBegin, DeferEnd
    Loc at{};                             // Drop, DeferBegin, DeferEnd: where the scope is left
    // Declare: the nesting of the scope that declares (0: the function
    // body); ScopeEnd: the nesting of the scope that ends.
    uint32_t depth = 0;
    // ScopeEnd: the break / continue that leaves the scope (null: its
    // closing brace, or a pass / fail / return).
    const ast::Stmt* jump = nullptr;
};

struct CfgBlock {
    std::vector<Event> events;
    // The block ends in a branch on `cond` (succs[0] when true, succs[1]
    // when false), or goes on to its one successor, or (the exit block)
    // has none.
    const ast::Expr* cond = nullptr;
    std::vector<uint32_t> succs;
    std::vector<uint32_t> preds;
    bool loop_head = false;  // the condition block of a `while`
    bool probe = false;      // a defer body where it is written (leads nowhere)
};

struct Cfg {
    const ast::FuncDecl* func = nullptr;
    std::vector<CfgBlock> blocks;  // [0] is the entry
    uint32_t exit = 0;             // the one block every Leave reaches
    uint32_t back_edges = 0;       // count of loop back edges (for tests)
    // Reverse post-order of the blocks reachable from the entry.
    std::vector<uint32_t> rpo;
    // Every scope exit lowered (reachable or not), with its schedule: the
    // Drop and DeferBegin events emitted there, in order. The test of
    // "what is checked is what runs" compares the interpreter's with these.
    struct Exit {
        Loc at;
        ExitHow how;
        std::vector<ExitEntry> todo;
    };
    std::vector<Exit> exits;
};

// The graph of `fd`'s body (which must have passed the type checker).
Cfg build_cfg(const ast::FuncDecl& fd, const Sema& s, const DropSwitches& on);

// Each function's graph, built once (on first use) for every analysis of
// one check.
class Graphs {
public:
    Graphs(const Sema& s, DropSwitches on) : s_(s), on_(on) {}
    const Cfg& of(const ast::FuncDecl& fd) {
        auto& g = built_[&fd];
        if (!g) g = std::make_unique<Cfg>(build_cfg(fd, s_, on_));
        return *g;
    }

private:
    const Sema& s_;
    DropSwitches on_;
    std::unordered_map<const ast::FuncDecl*, std::unique_ptr<Cfg>> built_;
};

// A readable dump (one line per block and event), for tests and
// `npk check --dump-cfg`-style debugging.
std::string dump_cfg(const Cfg& g);

}  // namespace npk
