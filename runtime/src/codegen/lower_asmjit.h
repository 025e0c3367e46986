// lower_asmjit.h — what the two lowerings share (private; asmjit only
// appears in the code generator's .cpp files and here).
#pragma once

#include "codegen/program.h"

#include "codegen/vec.h"

#include <asmjit/core.h>

#include <cstdlib>
#include <new>

namespace npk::codegen {

// Records the program as one function into `code` (initialised for the
// lowering's architecture) and finalises it. Returns asmjit's first error.
asmjit::Error lower_x86(const Program& p, asmjit::CodeHolder& code);
asmjit::Error lower_a64(const Program& p, asmjit::CodeHolder& code);

struct Compiled;
// The finished CodeHolder of a compile (lower.h), for the benchmarks that
// hand the very same code to asmjit's JitRuntime.
asmjit::CodeHolder& code_of(Compiled* c);

// A fixed array of asmjit operands (registers, labels: not trivially
// copyable, so not for Vec), one per variable or label.
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

inline asmjit::TypeId type_id(Type t) {
    switch (t) {
        case Type::i32: return asmjit::TypeId::kInt32;
        case Type::i64: return asmjit::TypeId::kInt64;
        case Type::f64: return asmjit::TypeId::kFloat64;
        case Type::ptr: return asmjit::TypeId::kUInt64;
        case Type::void_: break;
    }
    return asmjit::TypeId::kVoid;
}

// The host C signature of the program itself, and of a call it makes.
inline asmjit::FuncSignatureBuilder func_signature(const Program& p) {
    asmjit::FuncSignatureBuilder s(asmjit::CallConvId::kHost);
    s.setRet(type_id(p.ret));
    for (int32_t v : p.params) s.addArg(type_id(p.vars[static_cast<size_t>(v)]));
    return s;
}

inline asmjit::FuncSignatureBuilder call_signature(const Program& p, const Inst& in) {
    asmjit::FuncSignatureBuilder s(asmjit::CallConvId::kHost);
    s.setRet(type_id(in.ret));
    for (int i = 0; i < in.nargs; ++i) {
        s.addArg(type_id(p.vars[static_cast<size_t>(p.call_args[static_cast<size_t>(in.args + i)])]));
    }
    return s;
}

// What both lowerings do the same way, over their own compiler and
// registers (CRTP: `Arch` supplies the instructions). One virtual
// register per variable, one asmjit label per label; parameters arrive in
// their registers, the variables entry_zeroed names start at 0, and a
// function that runs off its end returns 0. `Arch` provides
// new_reg(Type), zero_reg(reg, Type), address(uint64) (a register holding
// it), and one emitter per kind of instruction: const_int, const_f64,
// mov, int_binop, mixed_binop (pointer arithmetic), int_binop_imm,
// f64_binop, neg, not_, convert (between different types), load, store
// (any width, any index), jump, branch, compare_branch (a comparison
// fused with a branch: binop + branch, branch_cmp), compare_set_branch
// (the same, also setting the 0/1), compare_branch_imm (a switch's bounds
// check and search), self_target (what a call of the function itself
// goes to), jump_table (a switch's indexed jump through a table
// of 32-bit offsets from its label) and kTableReach (how far that label
// may be from the jump).
template <class Arch, class CompilerT, class RegT>
class Lowering {
public:
    Lowering(CompilerT& cc, const Program& p) : cc_(cc), p_(p) {}

    asmjit::Error run() {
        asmjit::FuncNode* fn = cc_.addFunc(func_signature(p_));
        if (fn == nullptr) return asmjit::kErrorOutOfMemory;
        func_ = fn;
        // A frame-pointer frame: what gdb and perf walk JIT frames by (tools/).
        fn->frame().setPreservedFP();
        Vec<uint8_t> is_param;
        if (!regs_.init(p_.vars.size()) || !labels_.init(p_.label_bound.size()) ||
            !is_param.reserve(p_.vars.size())) {
            return asmjit::kErrorOutOfMemory;
        }
        for (size_t v = 0; v < p_.vars.size(); ++v) {
            regs_[v] = arch().new_reg(p_.vars[v]);
            (void)is_param.push(0);  // reserved above
        }
        for (size_t l = 0; l < p_.label_bound.size(); ++l) labels_[l] = cc_.newLabel();
        for (size_t i = 0; i < p_.params.size(); ++i) {
            fn->setArg(i, regs_[static_cast<size_t>(p_.params[i])]);
            is_param[static_cast<size_t>(p_.params[i])] = 1;
        }
        Vec<uint8_t> zeroed;
        if (!entry_zeroed(p_, &zeroed)) return asmjit::kErrorOutOfMemory;
        for (size_t v = 0; v < p_.vars.size(); ++v) {
            if (zeroed[v]) arch().zero_reg(regs_[v], p_.vars[v]);
        }
        if (!count_reads()) return asmjit::kErrorOutOfMemory;
        tables_reach_ = tables_fit();
        for (size_t k = 0; k < p_.insts.size(); ++k) {
            const Fuse f = fuses_with_next(k);
            if (f == Fuse::jump_only) {
                arch().compare_branch(p_.insts[k], label(p_.insts[k + 1].a));
                ++k;
            } else if (f == Fuse::keep_result) {
                arch().compare_set_branch(p_.insts[k], label(p_.insts[k + 1].a));
                ++k;
            } else if (!emit(p_.insts[k])) {
                return asmjit::kErrorOutOfMemory;
            }
        }
        if (p_.ret == Type::void_) {
            cc_.ret();
        } else {
            const RegT r = arch().new_reg(p_.ret);
            arch().zero_reg(r, p_.ret);
            cc_.ret(r);
        }
        cc_.endFunc();
        for (const Table& t : tables_) {
            const asmjit::Label table(t.label);
            cc_.align(asmjit::AlignMode::kData, 4);
            cc_.bind(table);
            const Inst& in = p_.insts[t.inst];
            for (int64_t i = 0; i < in.imm; ++i) {
                cc_.embedLabelDelta(label(p_.switch_labels[static_cast<size_t>(in.args + i)]), table, 4);
            }
        }
        return cc_.finalize();
    }

protected:
    CompilerT& cc_;
    const Program& p_;
    RegArray<RegT> regs_;
    RegArray<asmjit::Label> labels_;

    Vec<uint32_t> reads_;  // per variable: how many instructions read it
    asmjit::FuncNode* func_ = nullptr;
    struct Run {
        int64_t first;  // the first value of a run of cases with one target
        int32_t label;
    };
    Vec<Run> runs_;
    struct Table {
        uint32_t label;  // asmjit's id of the table's label
        uint32_t inst;   // the switch_
    };
    Vec<Table> tables_;
    bool tables_reach_ = true;
    Vec<uint32_t> seen_;  // per label: the last table that named it (+1)

    Arch& arch() { return static_cast<Arch&>(*this); }

    bool count_reads() {
        if (!reads_.reserve(p_.vars.size())) return false;
        for (size_t v = 0; v < p_.vars.size(); ++v) (void)reads_.push(0);
        auto read = [&](int32_t v) {
            if (v >= 0) ++reads_[static_cast<size_t>(v)];
        };
        int32_t reads[kMaxReads];
        for (const Inst& in : p_.insts) {
            const int n = reads_of(p_, in, reads);
            for (int k = 0; k < n; ++k) read(reads[k]);
        }
        return true;
    }

    // A comparison the next instruction, a branch, reads: compare and jump
    // on the flags. When only that branch reads the result, without the 0/1
    // in a register (jump_only); otherwise (integers) the 0/1 is set from
    // the same flags (keep_result).
    enum class Fuse { none, jump_only, keep_result };
    Fuse fuses_with_next(size_t k) const {
        const Inst& in = p_.insts[k];
        if (in.kind != Kind::binop || !is_compare(in.op) || k + 1 >= p_.insts.size()) return Fuse::none;
        const Inst& next = p_.insts[k + 1];
        if (next.kind != Kind::branch || next.b != in.dst) return Fuse::none;
        if (reads_[static_cast<size_t>(in.dst)] == 1) return Fuse::jump_only;
        return type(in.a) == Type::f64 ? Fuse::none : Fuse::keep_result;
    }

    Type type(int32_t v) const { return p_.vars[static_cast<size_t>(v)]; }
    const RegT& reg(int32_t v) { return regs_[static_cast<size_t>(v)]; }
    asmjit::Label label(int32_t l) { return labels_[static_cast<size_t>(l)]; }

    // A switch: the bounds check (unsigned: negative values too go to the
    // default), then, over the runs of equal targets, a binary search when
    // there are few (at most 1 + log2(runs) compares) or a jump through a
    // table of 32-bit offsets from the table's start (placed after the
    // code by run()) when there are more and the host's reach allows.
    static constexpr size_t kSearchRuns = 4;

    bool switch_(const Inst& in, size_t k) {
        Inst check = in;
        check.kind = Kind::branch_cmp_imm;
        check.op = BinOp::uge;
        arch().compare_branch_imm(check, label(in.b));
        if (in.imm == 0) return true;
        runs_.clear();
        for (int64_t i = 0; i < in.imm; ++i) {
            const int32_t l = p_.switch_labels[static_cast<size_t>(in.args + i)];
            if (!runs_.empty() && runs_.back().label == l) continue;
            if (!runs_.push({i, l})) return false;
        }
        if (runs_.size() <= kSearchRuns || !tables_reach_) {
            search(in, 0, runs_.size());
            return true;
        }
        const asmjit::Label table = cc_.newLabel();
        asmjit::JumpAnnotation* ann = annotation();
        if (ann == nullptr || !tables_.push({table.id(), static_cast<uint32_t>(k)})) return false;
        arch().jump_table(in, table, ann);
        return true;
    }

    // The distinct targets of the runs_, for asmjit's register allocator.
    asmjit::JumpAnnotation* annotation() {
        asmjit::JumpAnnotation* ann = cc_.newJumpAnnotation();
        if (ann == nullptr) return nullptr;
        if (seen_.size() < p_.label_bound.size()) {
            if (!seen_.reserve(p_.label_bound.size())) return nullptr;
            while (seen_.size() < p_.label_bound.size()) (void)seen_.push(0);
        }
        const auto mark = static_cast<uint32_t>(tables_.size() + 1);
        for (const Run& r : runs_) {
            if (seen_[static_cast<size_t>(r.label)] == mark) continue;
            seen_[static_cast<size_t>(r.label)] = mark;
            if (ann->addLabel(label(r.label)) != asmjit::kErrorOk) return nullptr;
        }
        return ann;
    }

    // Whether every table can sit within the host's reach of the code
    // that reads it (AArch64 adr: 1 MiB), judged from a generous bound of
    // the code's size.
    bool tables_fit() const {
        size_t entries = 0;
        for (const Inst& in : p_.insts) {
            if (in.kind == Kind::switch_) entries += static_cast<size_t>(in.imm);
        }
        return p_.insts.size() * 64 + entries * 4 < Arch::kTableReach;
    }

    void search(const Inst& in, size_t lo, size_t hi) {
        if (hi - lo == 1) return arch().jump(label(runs_[lo].label));
        const size_t mid = lo + (hi - lo) / 2;
        const asmjit::Label right = cc_.newLabel();
        Inst ge = in;
        ge.kind = Kind::branch_cmp_imm;
        ge.op = BinOp::ge;
        ge.imm = runs_[mid].first;
        arch().compare_branch_imm(ge, right);
        search(in, lo, mid);
        cc_.bind(right);
        search(in, mid, hi);
    }

    bool emit(const Inst& in) {
        switch (in.kind) {
            case Kind::const_int: arch().const_int(in); break;
            case Kind::const_f64: arch().const_f64(in); break;
            case Kind::mov: arch().mov(in.dst, in.a); break;
            case Kind::binop:
                if (in.mixed) {
                    arch().mixed_binop(in);
                } else if (type(in.a) == Type::f64) {
                    arch().f64_binop(in);
                } else {
                    arch().int_binop(in);
                }
                break;
            case Kind::binop_imm: arch().int_binop_imm(in); break;
            case Kind::neg: arch().neg(in); break;
            case Kind::not_: arch().not_(in); break;
            case Kind::convert:
                if (type(in.dst) == type(in.a)) {
                    arch().mov(in.dst, in.a);
                } else {
                    arch().convert(in.dst, in.a);
                }
                break;
            case Kind::load: arch().load(in); break;
            case Kind::store: arch().store(in); break;
            case Kind::bind: cc_.bind(label(in.a)); break;
            case Kind::jump: arch().jump(label(in.a)); break;
            case Kind::branch: arch().branch(reg(in.b), label(in.a)); break;
            case Kind::branch_cmp: arch().compare_branch(in, label(in.c)); break;
            case Kind::branch_cmp_imm: arch().compare_branch_imm(in, label(in.c)); break;
            case Kind::switch_: return switch_(in, static_cast<size_t>(&in - p_.insts.begin()));
            case Kind::call: call(in, arch().address(static_cast<uint64_t>(in.imm)), call_signature(p_, in)); break;
            case Kind::call_indirect: call(in, arch().callee(in.a), call_signature(p_, in)); break;
            case Kind::call_self: call(in, arch().self_target(func_->label()), func_signature(p_)); break;
            case Kind::ret:
                if (in.a < 0) {
                    cc_.ret();
                } else {
                    cc_.ret(reg(in.a));
                }
                break;
        }
        return true;
    }

    // A native call goes through a register holding the callee's address
    // (any distance), an indirect one through its variable, a call of the
    // function itself to its label.
    template <class Target>
    void call(const Inst& in, const Target& target, const asmjit::FuncSignatureBuilder& sig) {
        asmjit::InvokeNode* node = nullptr;
        const asmjit::Error err = cc_.invoke(&node, target, sig);
        if (err != asmjit::kErrorOk) return;  // the CodeHolder's error handler has it
        for (int i = 0; i < in.nargs; ++i) {
            node->setArg(static_cast<size_t>(i), reg(p_.call_args[static_cast<size_t>(in.args + i)]));
        }
        if (in.dst >= 0) node->setRet(0, reg(in.dst));
    }
};

// Runs lowering `L` with the calling thread's compiler of its kind,
// attached to `code` for this one function: detaching resets the
// compiler's zones softly, so their blocks serve the next function
// instead of going back to malloc (which, for every function, shrank and
// regrew the heap with brk).
template <class L, class CompilerT>
asmjit::Error lower_with(const Program& p, asmjit::CodeHolder& code) {
    thread_local CompilerT cc;
    asmjit::Error err = code.attach(&cc);
    if (err != asmjit::kErrorOk) return err;
    // This asmjit keeps the list of jump annotations across a detach while
    // its zone is reset: a stale list would write the next annotation
    // over freed memory.
    cc._jumpAnnotations.reset();
    L lowering(cc, p);
    err = lowering.run();
    code.detach(&cc);
    return err;
}

}  // namespace npk::codegen
