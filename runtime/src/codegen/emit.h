// emit.h — the fast tier (private): the recorded program, registers
// allocated by regalloc.cpp in one pass, encoded by asmjit's Assembler
// for the host (emit_x86.cpp, emit_a64.cpp). asmjit appears only in the
// code generator's .cpp files and its private headers.
#pragma once

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
