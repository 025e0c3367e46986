// emit_x86.h — the fast tier for x86-64 (private): the emitter class,
// shared by emit_x86.cpp (frame, control flow, calls: where the register
// and frame conventions are described) and emit_x86_ops.cpp (arithmetic,
// comparisons, conversions, memory access).
#pragma once

#include "codegen/emit.h"
#include "codegen/regalloc.h"

#include <asmjit/x86.h>

namespace npk::codegen::x86emit {

using namespace asmjit;
using x86::CondCode;

enum : uint8_t { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R11 = 11 };
constexpr uint8_t XMM14 = 14, XMM15 = 15;

class X86Emitter : public EmitterBase<X86Emitter, x86::Assembler> {
public:
    using EmitterBase::EmitterBase;

private:
    friend EmitterBase;
    int32_t frame_ = 0;      // bytes below the pushed registers
    int32_t slot_base_ = 0;  // offset from rsp of slot 0
    int32_t save_base_ = 0;  // offset from rsp of the call-save area
    uint8_t pushed_[8];
    int n_pushed_ = 0;


    static x86::Gp sized(int id, Type t) {
        return t == Type::i32 ? x86::Gp(x86::gpd(static_cast<uint32_t>(id))) : x86::Gp(x86::gpq(static_cast<uint32_t>(id)));
    }
    x86::Gp gp(int32_t v) const { return sized(reg(v), type(v)); }
    static x86::Xmm xmm(int id) { return x86::xmm(static_cast<uint32_t>(id)); }
    x86::Mem mem(int32_t v) const {
        const int32_t off = slot_base_ + 8 * loc(v).slot;
        return type(v) == Type::i32 ? x86::dword_ptr(x86::rsp, off) : x86::qword_ptr(x86::rsp, off);
    }
    // A register or the slot: what two-operand instructions take as source.
    Operand rm(int32_t v) const {
        if (reg(v) >= 0) return type(v) == Type::f64 ? Operand(xmm(reg(v))) : Operand(gp(v));
        return mem(v);
    }
    // The variable in a register: its own, or loaded into `scratch`.
    x86::Gp in_gp(int32_t v, int scratch) {
        if (reg(v) >= 0) return gp(v);
        const x86::Gp s = sized(scratch, type(v));
        a_.mov(s, mem(v));
        return s;
    }
    x86::Xmm in_xmm(int32_t v, int scratch) {
        if (reg(v) >= 0) return xmm(reg(v));
        a_.movsd(xmm(scratch), mem(v));
        return xmm(scratch);
    }
    // Writes a computed value to the variable's place.
    void put_gp(int32_t v, const x86::Gp& r) {
        if (reg(v) == static_cast<int>(r.id())) return;
        if (reg(v) >= 0) {
            a_.mov(gp(v), sized(static_cast<int>(r.id()), type(v)));
        } else {
            a_.mov(mem(v), sized(static_cast<int>(r.id()), type(v)));
        }
    }
    void put_xmm(int32_t v, const x86::Xmm& r) {
        if (reg(v) == static_cast<int>(r.id())) return;
        if (reg(v) >= 0) {
            a_.movapd(xmm(reg(v)), r);
        } else {
            a_.movsd(mem(v), r);
        }
    }
    // The register to compute `dst = a op b` in, two-operand style: the
    // destination's own unless that would overwrite b before it is read.
    int work_reg(int32_t dst, int32_t a, int b_reg, int scratch) const {
        const int d = reg(dst);
        if (d >= 0 && (d != b_reg || d == reg(a))) return d;
        return scratch;
    }

    void prologue();
    void epilogue();
    size_t fused(size_t k) {
        if (fuses_with_next(p_, al_, k)) {
            compare_branch(p_.insts[k], label(p_.insts[k + 1].a));
            return 2;
        }
        return memory_operand(k);
    }
    void zero_result() {
        if (p_.ret == Type::f64) a_.xorps(x86::xmm0, x86::xmm0);
        if (p_.ret != Type::f64 && p_.ret != Type::void_) a_.xor_(x86::eax, x86::eax);
    }
    void move_params();
    void move_all(ArgMoves& moves);  // the gathered register moves, at once
    void zero_vars();
    void emit(const Inst& in, size_t k);
    void copy(int32_t dst, int32_t src);
    void const_int(const Inst& in);
    void const_f64(const Inst& in);
    void unary(const Inst& in);
    void int_binop(const Inst& in);
    size_t memory_operand(size_t k);
    void mixed(const Inst& in);
    void switch_(const Inst& in);
    Operand rhs(const Inst& in, Type t);
    int rhs_reg(const Inst& in) const { return in.kind == Kind::binop ? reg(in.b) : -1; }
    x86::Gp as64(int32_t v, int scratch);
    x86::Mem address(const Inst& in, uint32_t size);
    void shift(const Inst& in);
    void divide(const Inst& in);
    void int_compare(const Inst& in);
    void f64_binop(const Inst& in);
    void f64_compare(const Inst& in);
    void compare_branch(const Inst& in, const Label& target);
    void convert(const Inst& in);
    void f64_to_int(const x86::Gp& d, const x86::Xmm& s);
    void load(const Inst& in);
    void store(const Inst& in);
    void branch(const Inst& in);
    void call(const Inst& in);
    void ret(const Inst& in, size_t k);
    void save_area(uint32_t gp_mask, uint32_t fp_mask, bool restore);
    x86::Mem save_slot(int c, int id) const { return x86::qword_ptr(x86::rsp, save_base_ + 8 * (16 * c + id)); }

    static CondCode int_cond(BinOp op) {
        static constexpr CondCode kCond[] = {
            CondCode::kE, CondCode::kNE, CondCode::kL,  CondCode::kLE, CondCode::kG,
            CondCode::kGE, CondCode::kB, CondCode::kBE, CondCode::kA,  CondCode::kAE,
        };
        return kCond[static_cast<int>(op) - static_cast<int>(BinOp::eq)];
    }
};

}  // namespace npk::codegen::x86emit
