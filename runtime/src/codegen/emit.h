// emit.h — the fast tier (private): the recorded program, registers
// allocated by regalloc.cpp in one pass, encoded by asmjit's Assembler
// for the host (emit_x86.cpp, emit_a64.cpp). asmjit appears only in the
// code generator's .cpp files and its private headers.
#pragma once

#include "codegen/moves.h"
#include "codegen/program.h"
#include "codegen/regalloc.h"

#include <asmjit/core.h>

#include <cstdlib>
#include <new>

namespace npk::codegen {

// A fixed array of asmjit operands (labels: not trivially copyable, so
// not for Vec), one per label of the program.
template <class T>
class RegArray {
public:
    RegArray() = default;
    RegArray(const RegArray&) = delete;
    RegArray& operator=(const RegArray&) = delete;
    ~RegArray() {
        for (size_t i = 0; i < n_; ++i) p_[i].~T();
        std::free(p_);
    }
    [[nodiscard]] bool init(size_t n) {
        p_ = static_cast<T*>(std::malloc((n ? n : 1) * sizeof(T)));
        if (p_ == nullptr) return false;
        for (; n_ < n; ++n_) new (p_ + n_) T();
        return true;
    }
    T& operator[](size_t i) { return p_[i]; }

private:
    T* p_ = nullptr;
    size_t n_ = 0;
};

// Each of n values (a call's arguments, or the parameters) with its
// register class c and its index k among the values of that class, as
// both calling conventions count them: f(v, c, k), in order.
template <class F>
void by_class(const Program& p, const int32_t* vars, size_t n, F&& f) {
    int seen[2] = {0, 0};
    for (size_t i = 0; i < n; ++i) {
        const int32_t v = vars[i];
        const int c = reg_class(p.vars[static_cast<size_t>(v)]);
        f(v, c, seen[c]++);
    }
}

// Register-to-register moves of both classes, gathered, then done at
// once (parallel_move): parameters arriving, arguments leaving.
struct ArgMoves {
    RegMove m[2][kMaxParams];
    int n[2] = {0, 0};
    void add(int c, int dst, int src) { m[c][n[c]++] = RegMove{static_cast<int8_t>(dst), static_cast<int8_t>(src)}; }
    // mov_gp / mov_fp(dst, src) emit one move; the scratch registers break cycles.
    template <class MovGp, class MovFp>
    void run(int gp_scratch, int fp_scratch, MovGp&& mov_gp, MovFp&& mov_fp) {
        parallel_move(m[0], n[0], gp_scratch, mov_gp);
        parallel_move(m[1], n[1], fp_scratch, mov_fp);
    }
};

// Every register of the two masks (class 0: integers, 1: F64), in id
// order: f(c, id). The call-save areas of both emitters.
template <class F>
void for_each_reg(uint32_t gp_mask, uint32_t fp_mask, F&& f) {
    for (int r = 0; r < 32; ++r) {
        if (gp_mask & (1u << r)) f(0, r);
        if (fp_mask & (1u << r)) f(1, r);
    }
}

// What both emitters share (CRTP: `Arch` supplies prologue(), epilogue(),
// fused(k) (instructions k.. done as one, or 0), emit(inst, k) and
// zero_result()): the program's labels, one pass over the record, the
// entry (call_self's target) and the exit, and the switch tables placed
// after the code.
template <class Arch, class Asm>
class EmitterBase {
public:
    EmitterBase(const Program& p, const Allocation& al, asmjit::CodeHolder& code) : a_(&code), p_(p), al_(al) {}

    asmjit::Error run() {
        if (!labels_.init(p_.label_bound.size())) return asmjit::kErrorOutOfMemory;
        for (size_t l = 0; l < p_.label_bound.size(); ++l) labels_[l] = a_.newLabel();
        exit_ = a_.newLabel();
        entry_ = a_.newLabel();
        a_.bind(entry_);
        arch().prologue();
        for (size_t k = 0; k < p_.insts.size(); ++k) {
            if (const size_t n = arch().fused(k)) {
                k += n - 1;
            } else {
                arch().emit(p_.insts[k], k);
            }
        }
        if (p_.insts.empty() || p_.insts[p_.insts.size() - 1].kind != Kind::ret) arch().zero_result();
        a_.bind(exit_);
        arch().epilogue();
        tables();
        return asmjit::kErrorOk;
    }

protected:
    Asm a_;
    const Program& p_;
    const Allocation& al_;
    RegArray<asmjit::Label> labels_;
    asmjit::Label exit_, entry_;
    struct Table {
        int32_t first, n;
        uint32_t at;  // its label's id (Vec keeps trivially copyable things)
    };
    Vec<Table> tables_;
    size_t call_index_ = 0;

    // The caller-saved registers to save around the next call (integer,
    // F64), the calls taken in program order.
    struct Saves {
        uint32_t gp, fp;
    };
    Saves next_saves() {
        const size_t i = call_index_++;
        return Saves{al_.saves[2 * i], al_.saves[2 * i + 1]};
    }

    Arch& arch() { return static_cast<Arch&>(*this); }
    asmjit::Label label(int32_t l) { return labels_[static_cast<size_t>(l)]; }
    Type type(int32_t v) const { return p_.vars[static_cast<size_t>(v)]; }
    const Loc& loc(int32_t v) const { return al_.loc[static_cast<size_t>(v)]; }
    int reg(int32_t v) const { return loc(v).reg; }

    // A new table for switch `in`, emitted by tables(); its label.
    asmjit::Label table_for(const Inst& in) {
        const asmjit::Label at = a_.newLabel();
        if (!tables_.push(Table{in.args, static_cast<int32_t>(in.imm), at.id()})) a_.reportError(asmjit::kErrorOutOfMemory);
        return at;
    }
    void tables() {
        if (tables_.empty()) return;
        a_.align(asmjit::AlignMode::kData, 4);
        for (const Table& t : tables_) {
            const asmjit::Label at(t.at);
            a_.bind(at);
            for (int32_t k = 0; k < t.n; ++k) {
                a_.embedLabelDelta(label(p_.switch_labels[static_cast<size_t>(t.first + k)]), at, 4);
            }
        }
    }
};

// Encodes `p` as one function into `code` (initialised for the
// emitter's architecture). Returns asmjit's first error, or
// kErrorOutOfMemory when the allocator's tables could not grow.
asmjit::Error emit_x86(const Program& p, asmjit::CodeHolder& code);
asmjit::Error emit_a64(const Program& p, asmjit::CodeHolder& code);

}  // namespace npk::codegen
