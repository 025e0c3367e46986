// regalloc.h — the fast tier's register allocation (private): two
// forward passes of facts over the recorded program (labels, loops and
// calls; then every variable's occurrences, with the loop depth and the
// outermost loop at each), then a linear scan that hands out registers
// in one forward pass.
//
// What one pass can know, and is used:
//   - each variable's first and last occurrence (its live interval, in
//     instruction positions: entry is 0, instruction k is k + 1);
//   - the loops: a jump or branch back to a label bound earlier makes
//     [label, jump] a loop; a variable live at a loop's header (its
//     interval starts before the header and reaches into the loop) lives
//     to the loop's end, so its value survives the back edge;
//   - which variables some path reads before writing (entry_zeroed,
//     program.h): they hold 0 from the entry on, so they live from 0;
//   - a variable first written and then only used inside one basic block
//     (a temporary) lives exactly there; any other that starts inside a
//     loop lives from that loop's header (a path round the loop may read
//     the value of the previous turn);
//   - loop depth, which weighs each occurrence (8 per level) when the
//     scan must choose whom to spill.
// A spilled variable lives in its stack slot for its whole interval (the
// emitters load it into a scratch register where an instruction needs
// it), so no block boundary ever needs a move to reconcile locations.
// Registers live across a call that the callee may clobber are saved
// around that call only; intervals crossing calls prefer callee-saved
// registers.
#pragma once

#include "codegen/program.h"
#include "codegen/vec.h"

#include <cstdint>

namespace npk::codegen {

// What the allocator may hand out on one host.
struct RegFile {
    struct Class {
        uint8_t alloc[32];       // allocatable register ids, caller-saved first
        int n = 0;
        uint32_t callee_saved = 0;  // mask by id
        uint8_t args[kMaxParams];   // the registers parameters arrive in, in order
        int n_args = 0;             // how many parameters of this class come in registers
    };
    Class cls[2];  // 0: integers (I32, I64, PTR), 1: F64
};

inline int reg_class(Type t) { return t == Type::f64 ? 1 : 0; }

// Where a variable lives for its whole interval.
struct Loc {
    int16_t reg = -1;   // a register id of its class, or -1
    int32_t slot = -1;  // else an 8-byte stack slot, or -1: never used
};

struct Allocation {
    Vec<Loc> loc;         // per variable
    Vec<uint8_t> zero;    // per variable: set to 0 at entry
    Vec<int32_t> end;     // per variable: last position it is live at (-1: unused)
    Vec<uint32_t> saves;  // per call instruction, in order: [2i] integer, [2i+1] F64 registers live across it
    uint32_t used[2] = {0, 0};  // every register handed out, per class
    int32_t slots = 0;
    bool has_calls = false;
};

// Fills `out` for `p`. False when memory runs out.
bool allocate(const Program& p, const RegFile& rf, Allocation* out);

// The labels instruction `in` may jump to, one call of f(label) each.
template <class F>
void for_each_target(const Program& p, const Inst& in, F&& f) {
    switch (in.kind) {
        case Kind::jump:
        case Kind::branch:
            f(in.a);
            return;
        case Kind::branch_cmp:
        case Kind::branch_cmp_imm:
            f(in.c);
            return;
        case Kind::switch_:
            f(in.b);
            for (int64_t k = 0; k < in.imm; ++k) f(p.switch_labels[static_cast<size_t>(in.args + k)]);
            return;
        case Kind::const_int: case Kind::const_f64: case Kind::mov: case Kind::binop: case Kind::binop_imm:
        case Kind::neg: case Kind::not_: case Kind::convert: case Kind::load: case Kind::store: case Kind::bind:
        case Kind::call: case Kind::call_indirect: case Kind::call_self: case Kind::ret:
            return;
    }
}

inline bool is_call(const Inst& in) {
    return in.kind == Kind::call || in.kind == Kind::call_indirect || in.kind == Kind::call_self;
}

// A comparison whose result only the next instruction, a branch on it,
// reads (the variable is dead after the branch): the emitters compare and
// jump on the flags.
inline bool fuses_with_next(const Program& p, const Allocation& al, size_t k) {
    const Inst& in = p.insts[k];
    if (in.kind != Kind::binop || !is_compare(in.op) || k + 1 >= p.insts.size()) return false;
    const Inst& next = p.insts[k + 1];
    return next.kind == Kind::branch && next.b == in.dst && in.a != in.dst && in.b != in.dst &&
           al.end[static_cast<size_t>(in.dst)] <= static_cast<int32_t>(k + 2);
}

}  // namespace npk::codegen
