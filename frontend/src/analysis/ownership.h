// The ownership analysis (issue 16): ARIA-014 (leak), ARIA-015 (use
// after release) and ARIA-022 (double release), and a W^X page's state
// (allocated → written → sealed), on the dataflow engine
// (analysis/dataflow.h) over each function's control-flow graph
// (analysis/cfg.h). docs/language.md ("Lifecycle rules") states the
// rules for users.
//
// Resources, not names: every owning value is an abstract resource
// (ownership_state.h), and every name (a slot, a field of a local struct,
// memory) maps to the set of resources it may hold. A declaration or an
// assignment gives a name what its value may be: another name, through
// `raw` / `drop` / @cast and pointer arithmetic, a field, what a helper
// may return of its arguments (returns.h), what an extern may return
// (any pointer argument unless it is #[fresh]), a pointer read back from
// memory (whatever was stored there). The arms of an `if` join by union.
// A release through any name releases what it may hold; a later use
// through any name is ARIA-015, a second release ARIA-022; where only
// some paths released, or the name only may hold the resource, the
// message says so.
//
// A `wild` / `wildx` declaration makes its name the owner of a resource
// that has none: it owes a release before its scope ends, before an
// early exit, before a break / continue, and before it is overwritten.
// A `defer` that releases it discharges that when the defer is written
// (DeferWritten) and releases it where it runs; a drop.npk RAII binding
// is released by its Drop event. Defer bodies and drops are events of
// the scope exits they run at, in run order (scope_exits.h), so a defer
// that uses what a drop or an earlier release freed is caught there.
//
// What a callee does to its parameters (releases them, calls through
// them, stores them into memory, releases a field of a struct
// parameter) is its summary: the analysis of its own body, read at its
// exit, by a worklist over the call graph until nothing grows
// (call_graph.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analysis/cfg.h"
#include "analysis/drops.h"
#include "analysis/ownership_state.h"
#include "analysis/checked.h"
#include "analysis/returns.h"
#include "sema/sema.h"

namespace npk::ownership {

inline constexpr const char* kLeak = "ARIA-014";
inline constexpr const char* kUseAfterFree = "ARIA-015";
inline constexpr const char* kDoubleFree = "ARIA-022";

// What a callee releases: by parameter index, the kind of release
// (static_cast<int8_t>(Origin); -1: none).
using Releases = std::vector<int8_t>;

// What a function does to its parameters, from its body.
struct Summary {
    Releases releases;
    Releases calls;        // called through as code (1)
    ParamSet stores = 0;   // may be stored into memory
    // What it releases through a pointer field of a struct parameter
    // (`free(b.ptr)`): (parameter << 32 | field) → the kind of release.
    std::map<uint64_t, int8_t> field_releases;
};
using Summaries = std::unordered_map<const ast::FuncDecl*, Summary>;

class Analysis {
public:
    using State = ownership::State;
    static constexpr bool kProbes = true;  // defer bodies where written, as upstream

    // `diag` null: a quiet run for the function's summary.
    Analysis(const Sema& s, const Summaries& sums, const ReturnSummaries& returns, Diagnostics* diag,
             const ast::FuncDecl& fd, const DropSwitches& on);

    State entry();
    bool join(State& into, const State& from);
    void transfer(const Event& e, State& st, bool report);

    // The function's summary, from the state at its exit block.
    Summary summary(const State* at_exit) const;

private:
    // ---- set-up (ownership.cpp) ------------------------------------------
    void prepare(const ast::FuncDecl& fd);
    void note_not_uses(const ast::Expr& x);

    // ---- names and values ------------------------------------------------
    uint32_t field_key(int32_t slot, uint32_t field);
    bool key_of(const ast::Expr& e, uint32_t& key);
    std::string name_of_key(uint32_t key) const;
    std::string text_of(const ast::Expr& e) const;
    Set get(const State& st, uint32_t key) const;
    void put(State& st, uint32_t key, const Set& v);
    void escape(State& st, const Set& v);
    Set value(const ast::Expr& e, State& st);
    Set call_value(const ast::Call& c, State& st);
    bool into_memory(const ast::Expr& target) const;
    bool reads_memory(const ast::Expr& x) const;
    bool from_memory(const ast::Expr& e) const;
    bool tracked_slot(int32_t slot) const;
    Fact fact(const State& st, uint32_t r) const;
    uint32_t fresh(State& st, uint32_t id, const ast::Expr* init);

    // ---- events (ownership.cpp) -------------------------------------------
    void eval(const ast::Expr& e, State& st);
    void declare(const ast::VarDecl& d, uint32_t depth, State& st);
    void assign(const ast::Assign& a, State& st);
    void drop(const Event& e, State& st);
    void scope_end(const Event& e, State& st);
    void leave(const ast::Leave& l, State& st);
    void handed_out(const ast::Expr& value, const Set& held, State& st);
    void defer_written(const Event& e, State& st);
    void collect_calls(const ast::Stmt& s, bool sure, std::vector<std::pair<const ast::Call*, bool>>& out) const;
    void collect_calls(const ast::Expr& e, bool sure, std::vector<std::pair<const ast::Call*, bool>>& out) const;
    void check_leaks(State& st, uint32_t down_to, Loc at, const char* what, const std::string& how);

    // ---- calls, releases, uses and pages (ownership_calls.cpp) -------------
    void call(const ast::Call& c, State& st);
    void use(const ast::Expr& e, State& st);
    void released_name(const ast::Expr& e, const std::string& name, bool maybe, Loc freed_at);
    void release(const ast::Expr& arg, Origin kind, Loc at, State& st);
    void release_set(const Set& held, Origin kind, Loc at, const std::string& name, const uint32_t* key,
                     bool via_memory, State& st);
    Releases releases_of(const Callee& c) const;
    bool calls_through(const Callee& c, size_t param) const;
    bool starts_unsealed(const ast::Expr& init) const;
    ParamSet stored_by(const Callee& c) const;
    void page_call(const ast::Call& c, State& st);
    void interior_seal(const ast::Expr& arg, State& st);
    void page_store(const ast::Expr& target, State& st);
    void read_heap_struct(const ast::Expr& name, State& st);

    // ---- reporting ---------------------------------------------------------
    void error(Loc at, const char* code, const std::string& msg);
    void warning(Loc at, const std::string& msg);
    void note(Loc at, const std::string& text);
    void note_declared(int32_t slot);

    const Sema& s_;
    const Summaries& sums_;
    const ReturnSummaries& returns_;
    Diagnostics* diag_;
    const FuncInfo& fi_;
    DropSwitches on_;
    bool report_ = false;
    bool muted_ = false;
    std::unordered_set<std::string> reported_;

    // By slot: its declaration (null for parameters), whether it is a
    // `wild` / `wildx` name (an owner), a drop.npk `wild S` heap struct,
    // bound from a load.
    std::vector<const ast::VarDecl*> decl_of_slot_;
    std::vector<uint8_t> owner_slot_, heap_struct_, loaded_;
    // Expression ids of names that are not a use where they appear: an
    // assignment's target, the object of `s.f`, an argument the callee
    // releases or only inspects.
    std::unordered_set<uint32_t> not_a_use_;
    // Expression ids of names passed to an extern: C may be handed a page
    // drop.npk has released (the registry answers "unknown" for it, as
    // bug291 relies on): a page released by a drop is no use there; any
    // other release is.
    std::unordered_set<uint32_t> to_c_;
    // Fields of local structs: (slot << 32 | field) → dense id; by slot,
    // its fields' ids (a declaration starts them again).
    std::unordered_map<uint64_t, uint32_t> field_ids_;
    std::vector<std::pair<int32_t, uint32_t>> field_names_;  // by dense id: (slot, field)
    std::unordered_map<int32_t, std::vector<uint32_t>> fields_of_slot_;
    // The pointer fields of struct parameters: by index, (param << 32 | field).
    std::vector<uint64_t> param_fields_;
    // The stack of open `wild` names, shared by every state (OwnedNode).
    std::vector<OwnedNode> owned_;
    std::unordered_map<uint64_t, uint32_t> owned_index_;
    Releases calls_;  // by parameter: called through as code, for the summary
};

// Every function's summary, to a fixed point over the call graph.
Summaries summaries(const ast::Program& prog, const Sema& sema, const ReturnSummaries& returns, Graphs& graphs);

// A builtin that makes a new block or page (alloc, wildx_alloc).
inline bool allocates(const Callee& k) {
    return k.kind == Callee::Kind::Builtin && (k.builtin == Builtin::Alloc || k.builtin == Builtin::WildxAlloc);
}

}  // namespace npk::ownership
