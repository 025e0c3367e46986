// emit_a64.cpp — the fast tier for AArch64 (AAPCS64): the program, its
// registers allocated by regalloc.cpp, encoded by asmjit's a64::Assembler.
//
// Registers: x9..x13, x8, x0..x7 (caller-saved) and x19..x28
// (callee-saved) for integers; v0..v7, v16..v29 (caller-saved) and
// v8..v15 (their low halves callee-saved) for F64. x14..x17 and v30 v31
// are scratch (x16 x17 operands, x15 far offsets, x14 a stored value); x18 (the platform's) is never touched. Frame: x29/x30
// pushed as a pair, x29 the frame pointer, then sp drops by the frame:
// [sp, +8n) the callee-saved registers used, then 64 slots for saving
// caller-saved registers around calls (when there are calls), then one
// 8-byte slot per spilled variable.
//
// AArch64 already has the portable semantics where x86 needs help: sdiv
// gives 0 for x/0 and MIN for MIN/-1 (so x%0 = x - 0*0 = x and
// MIN%-1 = MIN - MIN*-1 = 0 through msub), the register shifts take the
// count modulo the width, and fcvtzs truncates, saturates and makes NaN 0.
#include "codegen/emit.h"

#include "codegen/regalloc.h"

#include <asmjit/arm/a64assembler.h>
#include <asmjit/arm/a64utils.h>

namespace npk::codegen {
namespace {

using namespace asmjit;
using arm::CondCode;

constexpr int X14 = 14, X15 = 15, X16 = 16, X17 = 17;
constexpr int V30 = 30, V31 = 31;

const RegFile& a64_regs() {
    static const RegFile rf = [] {
        RegFile r{};
        const uint8_t gp[] = {9, 10, 11, 12, 13, 8, 0, 1, 2, 3, 4, 5, 6, 7,
                              19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
        for (uint8_t g : gp) r.cls[0].alloc[r.cls[0].n++] = g;
        for (uint8_t g = 19; g <= 28; ++g) r.cls[0].callee_saved |= 1u << g;
        for (uint8_t g = 0; g < 8; ++g) r.cls[0].args[r.cls[0].n_args++] = g;
        const uint8_t fp[] = {16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 0, 1, 2, 3, 4, 5, 6, 7,
                              8, 9, 10, 11, 12, 13, 14, 15};
        for (uint8_t v : fp) r.cls[1].alloc[r.cls[1].n++] = v;
        for (uint8_t v = 8; v <= 15; ++v) r.cls[1].callee_saved |= 1u << v;
        for (uint8_t v = 0; v < 8; ++v) r.cls[1].args[r.cls[1].n_args++] = v;
        return r;
    }();
    return rf;
}

class A64Emitter : public EmitterBase<A64Emitter, a64::Assembler> {
public:
    using EmitterBase::EmitterBase;

private:
    friend EmitterBase;
    int32_t frame_ = 0;
    int32_t save_base_ = 0;  // offset from sp of the call-save area
    int32_t slot_base_ = 0;  // offset from sp of slot 0
    uint8_t saved_[2][32];
    int n_saved_[2] = {0, 0};


    static a64::Gp sized(int id, Type t) {
        return t == Type::i32 ? a64::Gp(a64::GpW(static_cast<uint32_t>(id))) : a64::Gp(a64::GpX(static_cast<uint32_t>(id)));
    }
    static a64::Gp x(int id) { return a64::GpX(static_cast<uint32_t>(id)); }
    static a64::Vec d(int id) { return a64::VecD(static_cast<uint32_t>(id)); }
    a64::Gp gp(int32_t v) const { return sized(reg(v), type(v)); }

    // [sp + off]: within reach of a scaled 12-bit offset, or through x15.
    arm::Mem sp_at(int32_t off) {
        if (off <= 32760) return arm::ptr(a64::sp, off);
        a_.add(x(X15), a64::sp, Imm(off >> 12), Imm(12));
        return arm::ptr(x(X15), off & 0xFFF);
    }
    arm::Mem slot(int32_t v) { return sp_at(slot_base_ + 8 * loc(v).slot); }

    a64::Gp in_gp(int32_t v, int scratch) {
        if (reg(v) >= 0) return gp(v);
        const a64::Gp s = sized(scratch, type(v));
        a_.ldr(s, slot(v));
        return s;
    }
    a64::Vec in_d(int32_t v, int scratch) {
        if (reg(v) >= 0) return d(reg(v));
        a_.ldr(d(scratch), slot(v));
        return d(scratch);
    }
    // The register to compute v in: its own, or `scratch`.
    a64::Gp out_gp(int32_t v, int scratch) const { return sized(reg(v) >= 0 ? reg(v) : scratch, type(v)); }
    a64::Vec out_d(int32_t v, int scratch) const { return d(reg(v) >= 0 ? reg(v) : scratch); }
    void put_gp(int32_t v, const a64::Gp& r) {
        if (reg(v) == static_cast<int>(r.id())) return;
        if (reg(v) >= 0) return void(a_.mov(gp(v), sized(static_cast<int>(r.id()), type(v))));
        a_.str(sized(static_cast<int>(r.id()), type(v)), slot(v));
    }
    void put_d(int32_t v, const a64::Vec& r) {
        if (reg(v) == static_cast<int>(r.id())) return;
        if (reg(v) >= 0) return void(a_.fmov(d(reg(v)), r));
        a_.str(r, slot(v));
    }

    // Any constant: movz or movn, then movk for each half that differs.
    void load_imm(const a64::Gp& r, uint64_t v) {
        const unsigned halves = r.size() == 4 ? 2 : 4;
        if (halves == 2) v &= 0xFFFFFFFFu;
        unsigned zeros = 0, ones = 0;
        for (unsigned i = 0; i < halves; ++i) {
            const auto h = static_cast<uint16_t>(v >> (16 * i));
            zeros += h == 0;
            ones += h == 0xFFFF;
        }
        const bool inverted = ones > zeros;
        const uint16_t fill = inverted ? 0xFFFF : 0;
        bool first = true;
        for (unsigned i = 0; i < halves; ++i) {
            const auto h = static_cast<uint16_t>(v >> (16 * i));
            if (h == fill) continue;
            if (first && inverted) {
                a_.movn(r, Imm(static_cast<uint16_t>(~h)), Imm(16 * i));
            } else if (first) {
                a_.movz(r, Imm(h), Imm(16 * i));
            } else {
                a_.movk(r, Imm(h), Imm(16 * i));
            }
            first = false;
        }
        if (first) {
            if (inverted) {
                a_.movn(r, Imm(0), Imm(0));
            } else {
                a_.movz(r, Imm(0), Imm(0));
            }
        }
    }

    // The condition a comparison tests. fcmp of an unordered pair sets C
    // and V: EQ, MI (less), LS (less or equal), GT and GE are then false
    // and NE true, as C wants.
    CondCode cond(const Inst& in) const {
        static constexpr CondCode kInt[] = {
            CondCode::kEQ, CondCode::kNE, CondCode::kLT, CondCode::kLE, CondCode::kGT,
            CondCode::kGE, CondCode::kLO, CondCode::kLS, CondCode::kHI, CondCode::kHS,
        };
        static constexpr CondCode kF64[] = {
            CondCode::kEQ, CondCode::kNE, CondCode::kMI, CondCode::kLS, CondCode::kGT, CondCode::kGE,
        };
        const int i = static_cast<int>(in.op) - static_cast<int>(BinOp::eq);
        return type(in.a) == Type::f64 ? kF64[i] : kInt[i];
    }

    void compare(const Inst& in) {
        if (type(in.a) == Type::f64) {
            const a64::Vec a = in_d(in.a, V30);
            a_.fcmp(a, in_d(in.b, V31));
            return;
        }
        const a64::Gp a = in_gp(in.a, X16);
        // An immediate of 12 bits goes into cmp; a negative one into cmn
        // (a + n sets the flags as a - (-n) does for 1 <= n <= 4095).
        if (in.kind == Kind::binop_imm || in.kind == Kind::branch_cmp_imm) {
            if (in.imm >= 0 && in.imm <= 4095) return void(a_.cmp(a, Imm(in.imm)));
            if (in.imm < 0 && in.imm >= -4095) return void(a_.cmn(a, Imm(-in.imm)));
        }
        a_.cmp(a, rhs(in, X17));
    }

    // The right operand of an integer op in a register: b's, or the
    // immediate loaded into `scratch`.
    a64::Gp rhs(const Inst& in, int scratch) {
        if (in.kind == Kind::binop || in.kind == Kind::branch_cmp) return in_gp(in.b, scratch);
        const a64::Gp r = sized(scratch, type(in.a));
        load_imm(r, static_cast<uint64_t>(in.imm));
        return r;
    }
    // An I32 sign-extended to 64 bits, anything else as it is.
    a64::Gp as64(int32_t v, int scratch) {
        const a64::Gp r = in_gp(v, scratch);
        if (type(v) != Type::i32) return r;
        a_.sxtw(x(scratch), r.w());
        return x(scratch);
    }

    void prologue();
    void epilogue();
    size_t fused(size_t k) {
        if (!fuses_with_next(p_, al_, k)) return 0;
        compare(p_.insts[k]);
        a_.b(cond(p_.insts[k]), label(p_.insts[k + 1].a));
        return 2;
    }
    void zero_result() {
        if (p_.ret == Type::f64) a_.fmov(a64::d0, a64::xzr);
        if (p_.ret != Type::f64 && p_.ret != Type::void_) a_.mov(a64::x0, a64::xzr);
    }
    void move_params();
    void move_all(ArgMoves& moves);  // the gathered register moves, at once
    void zero_vars();
    void emit(const Inst& in, size_t k);
    void copy(int32_t dst, int32_t src);
    void binop(const Inst& in);
    bool binop_imm(const Inst& in);
    void mixed(const Inst& in);
    void switch_(const Inst& in);
    void convert(const Inst& in);
    void memory(const Inst& in);
    arm::Mem address(const Inst& in, int64_t size, bool* unscaled);
    void call(const Inst& in);
    void ret(const Inst& in, size_t k);
    void save_area(uint32_t gp_mask, uint32_t fp_mask, bool restore);
    void move_sp(int32_t by);
};

void A64Emitter::move_sp(int32_t by) {
    const int32_t n = by < 0 ? -by : by;
    if (n >> 12) {
        if (by < 0) a_.sub(a64::sp, a64::sp, Imm(n >> 12), Imm(12));
        if (by > 0) a_.add(a64::sp, a64::sp, Imm(n >> 12), Imm(12));
    }
    if (n & 0xFFF) {
        if (by < 0) a_.sub(a64::sp, a64::sp, Imm(n & 0xFFF));
        if (by > 0) a_.add(a64::sp, a64::sp, Imm(n & 0xFFF));
    }
}

void A64Emitter::prologue() {
    a_.stp(a64::x29, a64::x30, arm::ptr_pre(a64::sp, -16));
    a_.mov(a64::x29, a64::sp);
    for (int c = 0; c < 2; ++c) {
        const uint32_t m = al_.used[c] & a64_regs().cls[c].callee_saved;
        for (int r = 0; r < 32; ++r) {
            if (m & (1u << r)) saved_[c][n_saved_[c]++] = static_cast<uint8_t>(r);
        }
    }
    save_base_ = 8 * (n_saved_[0] + n_saved_[1]);
    slot_base_ = save_base_ + (al_.has_calls ? 8 * 64 : 0);
    frame_ = (slot_base_ + 8 * al_.slots + 15) & ~15;
    // Big frames grow a page at a time, touching each, so a thread's guard page is hit, not jumped.
    int32_t left = frame_;
    if (left > 4096) {
        load_imm(a64::w16, static_cast<uint32_t>(left / 4096));
        const Label again = a_.newLabel();
        a_.bind(again);
        a_.sub(a64::sp, a64::sp, Imm(1), Imm(12));
        a_.str(a64::xzr, arm::ptr(a64::sp));
        a_.subs(a64::w16, a64::w16, Imm(1));
        a_.b(CondCode::kNE, again);
        left %= 4096;
    }
    if (left > 0) move_sp(-left);
    int k = 0;
    for (int i = 0; i < n_saved_[0]; ++i) a_.str(x(saved_[0][i]), arm::ptr(a64::sp, 8 * k++));
    for (int i = 0; i < n_saved_[1]; ++i) a_.str(d(saved_[1][i]), arm::ptr(a64::sp, 8 * k++));
    move_params();
    zero_vars();
}

void A64Emitter::epilogue() {
    int k = 0;
    for (int i = 0; i < n_saved_[0]; ++i) a_.ldr(x(saved_[0][i]), arm::ptr(a64::sp, 8 * k++));
    for (int i = 0; i < n_saved_[1]; ++i) a_.ldr(d(saved_[1][i]), arm::ptr(a64::sp, 8 * k++));
    a_.mov(a64::sp, a64::x29);
    a_.ldp(a64::x29, a64::x30, arm::ptr_post(a64::sp, 16));
    a_.ret(a64::x30);
}

// Parameters from their argument registers to where the allocator wants
// them: slots first, then the register moves all at once.
void A64Emitter::move_params() {
    const RegFile& rf = a64_regs();
    ArgMoves moves;
    by_class(p_, p_.params.data(), p_.params.size(), [&](int32_t v, int c, int k) {
        const int src = rf.cls[c].args[k];
        if (al_.end[static_cast<size_t>(v)] < 0) return;  // never used
        if (reg(v) >= 0) {
            moves.add(c, reg(v), src);
        } else if (c == 0) {
            a_.str(sized(src, type(v)), slot(v));
        } else {
            a_.str(d(src), slot(v));
        }
    });
    move_all(moves);
}

void A64Emitter::move_all(ArgMoves& moves) {
    moves.run(X16, V31, [&](int dd, int s) { a_.mov(x(dd), x(s)); }, [&](int dd, int s) { a_.fmov(d(dd), d(s)); });
}

void A64Emitter::zero_vars() {
    for (size_t v = 0; v < p_.vars.size(); ++v) {
        if (!al_.zero[v]) continue;
        const auto var = static_cast<int32_t>(v);
        if (reg(var) < 0) {
            a_.str(a64::xzr, sp_at(slot_base_ + 8 * loc(var).slot));
        } else if (type(var) == Type::f64) {
            a_.fmov(d(reg(var)), a64::xzr);
        } else {
            a_.mov(x(reg(var)), a64::xzr);
        }
    }
}

void A64Emitter::emit(const Inst& in, size_t k) {
    switch (in.kind) {
        case Kind::const_int: {
            const a64::Gp r = out_gp(in.dst, X16);
            load_imm(r, static_cast<uint64_t>(in.imm));
            return put_gp(in.dst, r);
        }
        case Kind::const_f64: {
            const a64::Vec r = out_d(in.dst, V31);
            if (in.imm == 0) {
                a_.fmov(r, a64::xzr);
            } else {
                load_imm(x(X16), static_cast<uint64_t>(in.imm));
                a_.fmov(r, x(X16));
            }
            return put_d(in.dst, r);
        }
        case Kind::mov: return copy(in.dst, in.a);
        case Kind::binop:
        case Kind::binop_imm: return in.mixed ? mixed(in) : binop(in);
        case Kind::neg:
        case Kind::not_: {
            if (type(in.dst) == Type::f64) {
                const a64::Vec r = out_d(in.dst, V31);
                a_.fneg(r, in_d(in.a, V30));
                return put_d(in.dst, r);
            }
            const a64::Gp a = in_gp(in.a, X16), r = out_gp(in.dst, X17);
            if (in.kind == Kind::neg) {
                a_.neg(r, a);
            } else {
                a_.mvn(r, a);
            }
            return put_gp(in.dst, r);
        }
        case Kind::convert: return type(in.dst) == type(in.a) ? copy(in.dst, in.a) : convert(in);
        case Kind::load:
        case Kind::store: return memory(in);
        case Kind::bind: a_.bind(label(in.a)); return;
        case Kind::jump: a_.b(label(in.a)); return;
        case Kind::branch: a_.cbnz(in_gp(in.b, X16), label(in.a)); return;
        case Kind::branch_cmp:
        case Kind::branch_cmp_imm:
            compare(in);
            a_.b(cond(in), label(in.c));
            return;
        case Kind::switch_: return switch_(in);
        case Kind::call:
        case Kind::call_indirect:
        case Kind::call_self: return call(in);
        case Kind::ret: return ret(in, k);
    }
}

void A64Emitter::copy(int32_t dst, int32_t src) {
    if (type(dst) == Type::f64) return put_d(dst, in_d(src, V31));
    put_gp(dst, in_gp(src, X16));
}

// Three-operand forms read both operands before writing: any aliasing is fine.
void A64Emitter::binop(const Inst& in) {
    if (is_compare(in.op)) {
        compare(in);
        const a64::Gp r = out_gp(in.dst, X16);
        a_.cset(r, Imm(static_cast<uint32_t>(cond(in))));
        return put_gp(in.dst, r);
    }
    if (type(in.a) == Type::f64) {
        const a64::Vec a = in_d(in.a, V30), b = in_d(in.b, V31), r = out_d(in.dst, V31);
        switch (in.op) {
            case BinOp::add: a_.fadd(r, a, b); break;
            case BinOp::sub: a_.fsub(r, a, b); break;
            case BinOp::mul: a_.fmul(r, a, b); break;
            case BinOp::div: a_.fdiv(r, a, b); break;
            default: break;  // not defined for F64 (the builder refused it)
        }
        return put_d(in.dst, r);
    }
    if (in.kind == Kind::binop_imm && binop_imm(in)) return;
    const a64::Gp a = in_gp(in.a, X16), b = rhs(in, X17), r = out_gp(in.dst, X16);
    switch (in.op) {
        case BinOp::add: a_.add(r, a, b); break;
        case BinOp::sub: a_.sub(r, a, b); break;
        case BinOp::mul: a_.mul(r, a, b); break;
        case BinOp::div: a_.sdiv(r, a, b); break;
        case BinOp::rem: {
            const a64::Gp q = sized(X15, type(in.a));
            a_.sdiv(q, a, b);
            a_.msub(r, q, b, a);  // a - q*b
            break;
        }
        case BinOp::and_: a_.and_(r, a, b); break;
        case BinOp::or_: a_.orr(r, a, b); break;
        case BinOp::xor_: a_.eor(r, a, b); break;
        case BinOp::shl: a_.lsl(r, a, b); break;
        case BinOp::shr: a_.asr(r, a, b); break;
        case BinOp::ushr: a_.lsr(r, a, b); break;
        default: break;  // comparisons: above
    }
    put_gp(in.dst, r);
}

// dst = a op imm with the immediate in the instruction, where AArch64
// has a form for it: add / sub of 12 bits (or 12 bits shifted by 12; a
// negative one the other way), a logical bitmask immediate for and / orr
// / eor, a shift count (taken modulo the width, as the register forms
// do). False where it has none: binop() loads the immediate (rhs()).
bool A64Emitter::binop_imm(const Inst& in) {
    const unsigned width = type(in.a) == Type::i32 ? 32 : 64;
    const uint64_t bits = width == 32 ? static_cast<uint32_t>(in.imm) : static_cast<uint64_t>(in.imm);
    const a64::Gp r = out_gp(in.dst, X16);
    switch (in.op) {
        case BinOp::add:
        case BinOp::sub: {
            const bool neg = in.imm < 0;  // at a's type, sign-extended: INT*_MIN fits no form below
            const uint64_t m = neg ? 0 - static_cast<uint64_t>(in.imm) : static_cast<uint64_t>(in.imm);
            const bool low = m <= 4095, high = (m & 0xFFF) == 0 && (m >> 12) <= 4095;
            if (!low && !high) return false;
            const a64::Gp a = in_gp(in.a, X16);
            const bool add = (in.op == BinOp::add) != neg;
            const Imm v(low ? m : m >> 12), shift(low ? 0 : 12);
            add ? a_.add(r, a, v, shift) : a_.sub(r, a, v, shift);
            break;
        }
        case BinOp::and_:
        case BinOp::or_:
        case BinOp::xor_: {
            if (!a64::Utils::isLogicalImm(bits, width)) return false;
            const a64::Gp a = in_gp(in.a, X16);
            if (in.op == BinOp::and_) a_.and_(r, a, Imm(bits));
            if (in.op == BinOp::or_) a_.orr(r, a, Imm(bits));
            if (in.op == BinOp::xor_) a_.eor(r, a, Imm(bits));
            break;
        }
        case BinOp::shl:
        case BinOp::shr:
        case BinOp::ushr: {
            const a64::Gp a = in_gp(in.a, X16);
            const Imm count(bits & (width - 1));
            if (in.op == BinOp::shl) a_.lsl(r, a, count);
            if (in.op == BinOp::shr) a_.asr(r, a, count);
            if (in.op == BinOp::ushr) a_.lsr(r, a, count);
            break;
        }
        default: return false;  // mul, div, rem: through a register
    }
    put_gp(in.dst, r);
    return true;
}

// Pointer arithmetic between a PTR and an integer (an I32 sign-extended).
void A64Emitter::mixed(const Inst& in) {
    const a64::Gp a = as64(in.a, X16), b = as64(in.b, X17), r = out_gp(in.dst, X16);
    if (in.op == BinOp::add) {
        a_.add(r, a, b);
    } else {
        a_.sub(r, a, b);
    }
    put_gp(in.dst, r);
}

// A bounds check (value < 0 reads as huge unsigned), then a jump through
// a table of 32-bit distances from the table, placed after the function.
void A64Emitter::switch_(const Inst& in) {
    const Label dflt = label(in.b);
    if (in.imm == 0) return void(a_.b(dflt));
    const a64::Gp v = as64(in.a, X16);
    load_imm(x(X17), static_cast<uint64_t>(in.imm));
    a_.cmp(v, x(X17));
    a_.b(CondCode::kHS, dflt);
    const Label at = table_for(in);
    a_.adr(x(X17), at);
    a_.ldrsw(x(X15), arm::ptr(x(X17), v, arm::lsl(2)));
    a_.add(x(X17), x(X17), x(X15));
    a_.br(x(X17));
}

// Between different types (the same type is a copy).
void A64Emitter::convert(const Inst& in) {
    const Type td = type(in.dst), ts = type(in.a);
    if (td == Type::f64) {
        const a64::Vec r = out_d(in.dst, V31);
        a_.scvtf(r, in_gp(in.a, X16));
        return put_d(in.dst, r);
    }
    const a64::Gp r = out_gp(in.dst, X17);
    if (ts == Type::f64) {
        a_.fcvtzs(r, in_d(in.a, V31));
    } else if (ts == Type::i32) {
        a_.sxtw(r, in_gp(in.a, X16).w());
    } else if (td == Type::i32) {
        a_.mov(r, in_gp(in.a, X16).w());
    } else {
        return copy(in.dst, in.a);  // I64 <-> PTR: the bits
    }
    put_gp(in.dst, r);
}

// The address as [base, #disp]: ldr / str take a scaled unsigned 12-bit
// offset, ldur / stur a signed 9-bit one (`unscaled`); an index (times
// its scale, an I32 sign-extended) or any other offset is added to the
// base first, in x17.
arm::Mem A64Emitter::address(const Inst& in, int64_t size, bool* unscaled) {
    a64::Gp base = in_gp(in.a, X16);
    if (in.c >= 0) {
        const a64::Gp index = in_gp(in.c, X17);
        const uint32_t shift = in.scale == 8 ? 3 : in.scale == 4 ? 2 : in.scale == 2 ? 1 : 0;
        a64::Gp ix = index.x();
        if (type(in.c) == Type::i32) {  // asmjit has no add (extended register): sign-extend first
            a_.sxtw(x(X17), index.w());
            ix = x(X17);
        }
        a_.add(x(X17), base, ix, arm::lsl(shift));
        base = x(X17);
    }
    const int64_t off = in.imm;
    const bool scaled = off >= 0 && off % size == 0 && off / size <= 4095;
    *unscaled = !scaled && off >= -256 && off <= 255;
    if (!scaled && !*unscaled) {
        load_imm(x(X15), static_cast<uint64_t>(off));
        a_.add(x(X17), base, x(X15));
        return arm::ptr(x(X17), 0);
    }
    return arm::ptr(base, static_cast<int32_t>(off));
}

void A64Emitter::memory(const Inst& in) {
    const bool is_load = in.kind == Kind::load;
    const int32_t v = is_load ? in.dst : in.b;
    const Type t = type(v);
    const int64_t size = mem_bytes(in.mem);
    bool u = false;
    if (t == Type::f64) {
        if (is_load) {
            const arm::Mem m = address(in, size, &u);
            const a64::Vec r = out_d(v, V31);
            u ? a_.ldur(r, m) : a_.ldr(r, m);
            return put_d(v, r);
        }
        const a64::Vec r = in_d(v, V31);
        const arm::Mem m = address(in, size, &u);
        u ? a_.stur(r, m) : a_.str(r, m);
        return;
    }
    if (is_load) {
        const arm::Mem m = address(in, size, &u);
        const a64::Gp r = out_gp(v, X16);
        const a64::Gp w = r.w();
        const bool sx = mem_signed(in.mem);
        switch (size) {
            case 1:
                if (sx) u ? a_.ldursb(r, m) : a_.ldrsb(r, m);
                if (!sx) u ? a_.ldurb(w, m) : a_.ldrb(w, m);
                break;
            case 2:
                if (sx) u ? a_.ldursh(r, m) : a_.ldrsh(r, m);
                if (!sx) u ? a_.ldurh(w, m) : a_.ldrh(w, m);
                break;
            case 4:
                if (sx && t != Type::i32) {
                    u ? a_.ldursw(r, m) : a_.ldrsw(r, m);
                } else {
                    u ? a_.ldur(w, m) : a_.ldr(w, m);  // a 32-bit write zero-extends
                }
                break;
            default: u ? a_.ldur(r, m) : a_.ldr(r, m); break;
        }
        return put_gp(v, r);
    }
    const a64::Gp r = in_gp(v, X14);
    const arm::Mem m = address(in, size, &u);
    switch (size) {
        case 1: u ? a_.sturb(r.w(), m) : a_.strb(r.w(), m); break;
        case 2: u ? a_.sturh(r.w(), m) : a_.strh(r.w(), m); break;
        case 4: u ? a_.stur(r.w(), m) : a_.str(r.w(), m); break;
        default: u ? a_.stur(r.x(), m) : a_.str(r.x(), m); break;
    }
}

void A64Emitter::save_area(uint32_t gp_mask, uint32_t fp_mask, bool restore) {
    for_each_reg(gp_mask, fp_mask, [&](int c, int r) {
        const arm::Mem m = arm::ptr(a64::sp, save_base_ + 8 * (32 * c + r));
        if (c == 0) {
            restore ? a_.ldr(x(r), m) : a_.str(x(r), m);
        } else {
            restore ? a_.ldr(d(r), m) : a_.str(d(r), m);
        }
    });
}

// Save what the callee may clobber and is live after, place the arguments
// (registers all at once, then loads of spilled ones), call through x17
// (the address: an immediate, or a PTR variable read before the moves) or
// to this function's entry,
// keep the result in x17 / v31 while the saved registers come back, then
// give it to dst.
void A64Emitter::call(const Inst& in) {
    const RegFile& rf = a64_regs();
    const auto [save_gp, save_fp] = next_saves();
    save_area(save_gp, save_fp, false);
    ArgMoves moves;
    const int32_t* args = p_.call_args.data() + in.args;
    by_class(p_, args, in.nargs, [&](int32_t v, int c, int k) {
        if (reg(v) >= 0) moves.add(c, rf.cls[c].args[k], reg(v));
    });
    if (in.kind == Kind::call_indirect) {
        if (reg(in.a) >= 0) {
            a_.mov(x(X17), x(reg(in.a)));
        } else {
            a_.ldr(x(X17), slot(in.a));
        }
    }
    move_all(moves);
    by_class(p_, args, in.nargs, [&](int32_t v, int c, int k) {
        if (reg(v) >= 0) return;
        if (c == 0) {
            a_.ldr(sized(rf.cls[c].args[k], type(v)), slot(v));
        } else {
            a_.ldr(d(rf.cls[c].args[k]), slot(v));
        }
    });
    if (in.kind == Kind::call) {
        load_imm(x(X17), static_cast<uint64_t>(in.imm));
        a_.blr(x(X17));
    } else if (in.kind == Kind::call_indirect) {
        a_.blr(x(X17));
    } else {
        a_.bl(entry_);
    }
    if (in.dst >= 0 && type(in.dst) == Type::f64) {
        a_.fmov(d(V31), a64::d0);
        save_area(save_gp, save_fp, true);
        return put_d(in.dst, d(V31));
    }
    if (in.dst >= 0) a_.mov(x(X17), a64::x0);
    save_area(save_gp, save_fp, true);
    if (in.dst >= 0) put_gp(in.dst, sized(X17, type(in.dst)));
}

void A64Emitter::ret(const Inst& in, size_t k) {
    if (in.a >= 0) {
        if (type(in.a) == Type::f64) {
            const a64::Vec r = in_d(in.a, V31);
            if (r.id() != 0) a_.fmov(a64::d0, r);
        } else {
            const a64::Gp r = in_gp(in.a, X16);
            if (r.id() != 0) a_.mov(sized(0, type(in.a)), r);
        }
    }
    if (k + 1 < p_.insts.size()) a_.b(exit_);
}

}  // namespace

Error emit_a64(const Program& p, CodeHolder& code) {
    thread_local Allocation al;  // its tables serve the thread's next function too
    if (!allocate(p, a64_regs(), &al)) return kErrorOutOfMemory;
    A64Emitter e(p, al, code);
    return e.run();
}

}  // namespace npk::codegen
