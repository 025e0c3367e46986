// Which of its parameters a function may return (issue 16, item 4): the
// first analysis on the dataflow engine (analysis/dataflow.h) over the
// control-flow graph (analysis/cfg.h).
//
// For each binding, the set of parameters whose value it may hold: a
// parameter holds itself; a declaration or an assignment `q = e` gives q
// what e may be (a name, through raw / drop / @cast, field reads of a
// struct, pointer arithmetic, a struct literal's fields, the Result of a
// call); storing into a field `s.f = e` adds to s; the two arms of an
// `if` join by union. What reaches a `pass` / `return` is what the
// function may return. A call may return:
//   - a Nitpick function's: the arguments at the parameters its own
//     summary says it may return (summaries by a worklist over the call
//     graph until nothing changes; no round limit);
//   - an extern's: any of its pointer arguments, unless the extern is
//     declared `#[fresh]` (it returns a new pointer, never an argument);
//   - a builtin's (alloc, wildx_alloc): nothing of its arguments.
//
// The ownership analysis asks it what `q = helper(p)` may make q hold
// (analysis/ownership.h, call_value).
#pragma once

#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "sema/sema.h"
#include "syntax/ast.h"

namespace npk {

namespace attrs {
// #[fresh] on an extern that returns a pointer: what it returns is a new
// resource, never one of its arguments (docs/language.md).
inline constexpr std::string_view kFresh = "fresh";
}  // namespace attrs

// Bit i: parameter i (parameters from 63 on share bit 63).
using ParamSet = uint64_t;
inline ParamSet param_bit(size_t i) { return ParamSet{1} << (i < 63 ? i : 63); }

struct ReturnSummaries {
    std::unordered_map<const ast::FuncDecl*, ParamSet> may_return;
    // A function without a body of its own here: any parameter.
    ParamSet of(const ast::FuncDecl* f) const {
        auto it = may_return.find(f);
        return it == may_return.end() ? ~ParamSet{0} : it->second;
    }
};

class Graphs;
ReturnSummaries return_summaries(const ast::Program& prog, const Sema& sema, Graphs& graphs);
ReturnSummaries return_summaries(const ast::Program& prog, const Sema& sema);

}  // namespace npk
