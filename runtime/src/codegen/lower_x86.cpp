// lower_x86.cpp — the builder's program as x86-64 code (asmjit
// x86::Compiler: virtual registers, asmjit allocates them).
//
// Where x86 differs from the portable semantics, the code says so:
// idiv traps on x/0 and MIN/-1 (both are tested first), and cvttsd2si
// returns MIN for NaN and out-of-range values (fixed up after the fact).
#include "codegen/lower_asmjit.h"

#include <asmjit/x86.h>

namespace npk::codegen {
namespace {

using namespace asmjit;
using x86::CondCode;

class X86Lowering : public Lowering<X86Lowering, x86::Compiler, x86::Reg> {
public:
    using Lowering::Lowering;

private:
    friend Lowering;

    x86::Gp gp(int32_t v) { return reg(v).as<x86::Gp>(); }
    x86::Xmm xmm(int32_t v) { return reg(v).as<x86::Xmm>(); }
    x86::Gp similar(const x86::Gp& r) { return r.size() == 4 ? cc_.newGpd() : cc_.newGpq(); }

    x86::Reg new_reg(Type t) {
        switch (t) {
            case Type::i32: return cc_.newGpd();
            case Type::f64: return cc_.newXmmSd();
            default: return cc_.newGpq();
        }
    }

    void zero_reg(const x86::Reg& r, Type t) {
        if (t == Type::f64) {
            cc_.xorps(r.as<x86::Xmm>(), r.as<x86::Xmm>());
        } else {
            cc_.xor_(r.as<x86::Gp>().r32(), r.as<x86::Gp>().r32());  // also clears the upper half
        }
    }

    x86::Gp address(uint64_t a) {
        const x86::Gp r = cc_.newGpq();
        cc_.mov(r, Imm(a));
        return r;
    }

    void const_int(const Inst& in) {
        if (in.imm == 0) return zero_reg(reg(in.dst), type(in.dst));
        cc_.mov(gp(in.dst), Imm(in.imm));
    }

    void const_f64(const Inst& in) {
        if (in.imm == 0) return zero_reg(reg(in.dst), Type::f64);
        cc_.movq(xmm(in.dst), address(static_cast<uint64_t>(in.imm)));
    }

    void mov(int32_t dst, int32_t src) {
        if (type(dst) == Type::f64) {
            cc_.movapd(xmm(dst), xmm(src));
        } else {
            cc_.mov(gp(dst), gp(src));
        }
    }

    void neg(const Inst& in) {
        if (type(in.dst) != Type::f64) {
            cc_.mov(gp(in.dst), gp(in.a));
            cc_.neg(gp(in.dst));
            return;
        }
        // Flip the sign bit (NaN included), as C's unary minus.
        const x86::Xmm t = cc_.newXmmSd();
        cc_.movq(t, address(static_cast<uint64_t>(INT64_MIN)));
        cc_.xorpd(t, xmm(in.a));
        cc_.movapd(xmm(in.dst), t);
    }

    void not_(const Inst& in) {
        cc_.mov(gp(in.dst), gp(in.a));
        cc_.not_(gp(in.dst));
    }

    void jump(const Label& l) { cc_.jmp(l); }

    void branch(const x86::Reg& cond, const Label& l) {
        cc_.test(cond.as<x86::Gp>(), cond.as<x86::Gp>());
        cc_.jnz(l);
    }

    // dst = lhs op rhs. Two-operand x86 overwrites its first operand, so a
    // destination that is also the right operand computes into a temporary.
    void int_binop(const Inst& in) {
        const x86::Gp d = gp(in.dst), a = gp(in.a), b = gp(in.b);
        if (is_compare(in.op)) return int_compare(in.op, d, a, b);
        if (in.op == BinOp::div || in.op == BinOp::rem) return int_divide(in.op, d, a, b);
        const x86::Gp t = (in.dst == in.b && in.dst != in.a) ? similar(d) : d;
        cc_.mov(t, a);
        switch (in.op) {
            case BinOp::add: cc_.add(t, b); break;
            case BinOp::sub: cc_.sub(t, b); break;
            case BinOp::mul: cc_.imul(t, b); break;
            case BinOp::and_: cc_.and_(t, b); break;
            case BinOp::or_: cc_.or_(t, b); break;
            case BinOp::xor_: cc_.xor_(t, b); break;
            case BinOp::shl:
            case BinOp::shr:
            case BinOp::ushr: {
                // The count goes in cl; x86 takes it modulo 32 or 64, as we want.
                const x86::Gp c = cc_.newGpd();
                cc_.mov(c, b.r32());
                if (in.op == BinOp::shl) cc_.shl(t, c.r8());
                if (in.op == BinOp::shr) cc_.sar(t, c.r8());
                if (in.op == BinOp::ushr) cc_.shr(t, c.r8());
                break;
            }
            default: break;
        }
        if (t != d) cc_.mov(d, t);
    }

    // idiv faults on a zero divisor and on MIN / -1: both are decided
    // before it (x/0 = 0, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0).
    void int_divide(BinOp op, const x86::Gp& d, const x86::Gp& a, const x86::Gp& b) {
        const x86::Gp r = similar(d), lo = similar(d), hi = similar(d);
        const Label by_zero = cc_.newLabel(), by_minus1 = cc_.newLabel(), done = cc_.newLabel();
        cc_.test(b, b);
        cc_.jz(by_zero);
        cc_.cmp(b, -1);
        cc_.je(by_minus1);
        cc_.mov(lo, a);
        if (d.size() == 4) {
            cc_.cdq(hi, lo);
        } else {
            cc_.cqo(hi, lo);
        }
        cc_.idiv(hi, lo, b);
        cc_.mov(r, op == BinOp::div ? lo : hi);
        cc_.jmp(done);
        cc_.bind(by_zero);
        if (op == BinOp::div) {
            cc_.xor_(r.r32(), r.r32());
        } else {
            cc_.mov(r, a);
        }
        cc_.jmp(done);
        cc_.bind(by_minus1);
        if (op == BinOp::div) {
            cc_.mov(r, a);
            cc_.neg(r);  // wraps: -MIN = MIN
        } else {
            cc_.xor_(r.r32(), r.r32());
        }
        cc_.bind(done);
        cc_.mov(d, r);
    }

    static CondCode int_cond(BinOp op) {
        static constexpr CondCode kCond[] = {
            CondCode::kE, CondCode::kNE, CondCode::kL,  CondCode::kLE, CondCode::kG,
            CondCode::kGE, CondCode::kB, CondCode::kBE, CondCode::kA,  CondCode::kAE,
        };
        return kCond[static_cast<int>(op) - static_cast<int>(BinOp::eq)];
    }

    // cmp + jcc. For F64 the flags are read as in f64_compare: unordered
    // sets ZF, PF and CF, so EQ must also see PF clear and NE jumps on PF.
    void compare_branch(const Inst& in, const Label& target) {
        if (type(in.a) != Type::f64) {
            cc_.cmp(gp(in.a), gp(in.b));
            cc_.j(int_cond(in.op), target);
            return;
        }
        const x86::Xmm a = xmm(in.a), b = xmm(in.b);
        if (in.op == BinOp::eq || in.op == BinOp::ne) {
            cc_.ucomisd(a, b);
            if (in.op == BinOp::ne) {
                cc_.jp(target);
                cc_.jne(target);
            } else {
                const Label unordered = cc_.newLabel();
                cc_.jp(unordered);
                cc_.je(target);
                cc_.bind(unordered);
            }
            return;
        }
        const bool swap = in.op == BinOp::lt || in.op == BinOp::le;
        cc_.ucomisd(swap ? b : a, swap ? a : b);
        cc_.j(in.op == BinOp::lt || in.op == BinOp::gt ? CondCode::kA : CondCode::kAE, target);
    }

    void set_bool(CondCode cond, const x86::Gp& d) {
        const x86::Gp t = cc_.newGpb();
        cc_.set(cond, t);
        cc_.movzx(d, t);
    }

    void int_compare(BinOp op, const x86::Gp& d, const x86::Gp& a, const x86::Gp& b) {
        cc_.cmp(a, b);
        set_bool(int_cond(op), d);
    }

    void f64_binop(const Inst& in) {
        const x86::Xmm a = xmm(in.a), b = xmm(in.b);
        if (is_compare(in.op)) return f64_compare(in.op, gp(in.dst), a, b);
        const x86::Xmm d = xmm(in.dst);
        const x86::Xmm t = (in.dst == in.b && in.dst != in.a) ? cc_.newXmmSd() : d;
        cc_.movapd(t, a);
        switch (in.op) {
            case BinOp::add: cc_.addsd(t, b); break;
            case BinOp::sub: cc_.subsd(t, b); break;
            case BinOp::mul: cc_.mulsd(t, b); break;
            case BinOp::div: cc_.divsd(t, b); break;
            default: break;
        }
        if (t != d) cc_.movapd(d, t);
    }

    // ucomisd sets ZF, PF and CF all to 1 for an unordered pair: "above"
    // and "above or equal" are false then, so a < b is tested as b > a.
    // EQ must also see PF clear, NE is true on PF.
    void f64_compare(BinOp op, const x86::Gp& d, const x86::Xmm& a, const x86::Xmm& b) {
        if (op == BinOp::eq || op == BinOp::ne) {
            const x86::Gp t = cc_.newGpb(), u = cc_.newGpb();
            cc_.ucomisd(a, b);
            if (op == BinOp::eq) {
                cc_.sete(t);
                cc_.setnp(u);
                cc_.and_(t, u);
            } else {
                cc_.setne(t);
                cc_.setp(u);
                cc_.or_(t, u);
            }
            cc_.movzx(d, t);
            return;
        }
        const bool swap = op == BinOp::lt || op == BinOp::le;
        cc_.ucomisd(swap ? b : a, swap ? a : b);
        set_bool(op == BinOp::lt || op == BinOp::gt ? CondCode::kA : CondCode::kAE, d);
    }

    // Between different types (the same type is a move).
    void convert(int32_t dst, int32_t src) {
        const Type td = type(dst), ts = type(src);
        if (td == Type::f64) {
            cc_.xorps(xmm(dst), xmm(dst));  // cvtsi2sd keeps the upper lanes: break the dependency
            cc_.cvtsi2sd(xmm(dst), gp(src));
            return;
        }
        if (ts == Type::f64) return f64_to_int(gp(dst), xmm(src));
        if (ts == Type::i32) {
            cc_.movsxd(gp(dst), gp(src));
        } else if (td == Type::i32) {
            cc_.mov(gp(dst), gp(src).r32());
        } else {
            cc_.mov(gp(dst), gp(src));
        }
    }

    // cvttsd2si gives MIN for NaN and for anything out of range; only then
    // is the value looked at again: NaN → 0, too large → MAX, too small
    // stays MIN.
    void f64_to_int(const x86::Gp& d, const x86::Xmm& s) {
        const Label done = cc_.newLabel(), nan = cc_.newLabel(), positive = cc_.newLabel();
        cc_.cvttsd2si(d, s);
        cc_.cmp(d, 1);
        cc_.jno(done);  // d - 1 overflows only for d == MIN
        cc_.ucomisd(s, s);
        cc_.jp(nan);
        const x86::Xmm z = cc_.newXmmSd();
        cc_.xorps(z, z);
        cc_.ucomisd(s, z);
        cc_.ja(positive);
        cc_.jmp(done);
        cc_.bind(positive);
        cc_.mov(d, d.size() == 4 ? Imm(INT32_MAX) : Imm(INT64_MAX));
        cc_.jmp(done);
        cc_.bind(nan);
        cc_.xor_(d.r32(), d.r32());
        cc_.bind(done);
    }

    x86::Mem at(const Inst& in, Type t) {
        return t == Type::i32 ? x86::dword_ptr(gp(in.a), static_cast<int32_t>(in.imm))
                              : x86::qword_ptr(gp(in.a), static_cast<int32_t>(in.imm));
    }

    void load(const Inst& in) {
        const Type t = type(in.dst);
        if (t == Type::f64) {
            cc_.movsd(xmm(in.dst), at(in, t));
        } else {
            cc_.mov(gp(in.dst), at(in, t));
        }
    }

    void store(const Inst& in) {
        const Type t = type(in.b);
        if (t == Type::f64) {
            cc_.movsd(at(in, t), xmm(in.b));
        } else {
            cc_.mov(at(in, t), gp(in.b));
        }
    }
};

}  // namespace

Error lower_x86(const Program& p, CodeHolder& code) { return lower_with<X86Lowering, x86::Compiler>(p, code); }

}  // namespace npk::codegen
