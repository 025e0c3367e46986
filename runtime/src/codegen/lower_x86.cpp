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

    // A call of the function itself: a direct call to its entry.
    Label self_target(const Label& entry) { return entry; }

    // The PTR variable a call_indirect goes through.
    x86::Gp callee(int32_t v) { return gp(v); }

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
        int_rr(in.op, gp(in.dst), gp(in.a), gp(in.b), in.dst == in.b && in.dst != in.a);
    }

    void int_rr(BinOp op, const x86::Gp& d, const x86::Gp& a, const x86::Gp& b, bool d_is_b) {
        if (is_compare(op)) return int_compare(op, d, a, b);
        if (op == BinOp::div || op == BinOp::rem) return int_divide(op, d, a, b);
        const x86::Gp t = d_is_b ? similar(d) : d;
        cc_.mov(t, a);
        switch (op) {
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
                if (op == BinOp::shl) cc_.shl(t, c.r8());
                if (op == BinOp::shr) cc_.sar(t, c.r8());
                if (op == BinOp::ushr) cc_.shr(t, c.r8());
                break;
            }
            default: break;
        }
        if (t != d) cc_.mov(d, t);
    }

    static bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

    // An I32 operand sign-extended to 64 bits; a 64-bit one as it is.
    x86::Gp wide(int32_t v) {
        if (type(v) != Type::i32) return gp(v);
        const x86::Gp t = cc_.newGpq();
        cc_.movsxd(t, gp(v));
        return t;
    }

    // ptr ± int, int + ptr: 64-bit arithmetic on sign-extended operands.
    void mixed_binop(const Inst& in) {
        const x86::Gp a = wide(in.a), b = wide(in.b), t = cc_.newGpq();
        cc_.mov(t, a);
        if (in.op == BinOp::add) {
            cc_.add(t, b);
        } else {
            cc_.sub(t, b);
        }
        cc_.mov(gp(in.dst), t);
    }

    // dst = lhs op imm, the immediate in the instruction where x86 takes
    // one (a sign-extended 32-bit field); a 64-bit one goes in a register.
    void int_binop_imm(const Inst& in) {
        const x86::Gp d = gp(in.dst), a = gp(in.a);
        const int64_t v = in.imm;
        if (!fits32(v)) {
            const x86::Gp r = cc_.newGpq();
            cc_.mov(r, Imm(v));
            return int_rr(in.op, d, a, r, false);
        }
        const int bits = a.size() * 8;
        switch (in.op) {
            case BinOp::eq: case BinOp::ne: case BinOp::lt: case BinOp::le: case BinOp::gt: case BinOp::ge:
            case BinOp::ult: case BinOp::ule: case BinOp::ugt: case BinOp::uge:
                cc_.cmp(a, Imm(v));
                return set_bool(int_cond(in.op), d);
            case BinOp::div: case BinOp::rem:
                return int_divide_imm(in.op, d, a, v);
            case BinOp::mul: cc_.imul(d, a, Imm(v)); return;
            case BinOp::shl: case BinOp::shr: case BinOp::ushr: {
                const int n = static_cast<int>(v & (bits - 1));
                cc_.mov(d, a);
                if (n == 0) return;
                if (in.op == BinOp::shl) cc_.shl(d, n);
                if (in.op == BinOp::shr) cc_.sar(d, n);
                if (in.op == BinOp::ushr) cc_.shr(d, n);
                return;
            }
            case BinOp::add: case BinOp::sub: case BinOp::and_: case BinOp::or_: case BinOp::xor_:
                cc_.mov(d, a);
                if (in.op == BinOp::add) cc_.add(d, Imm(v));
                if (in.op == BinOp::sub) cc_.sub(d, Imm(v));
                if (in.op == BinOp::and_) cc_.and_(d, Imm(v));
                if (in.op == BinOp::or_) cc_.or_(d, Imm(v));
                if (in.op == BinOp::xor_) cc_.xor_(d, Imm(v));
                return;
        }
    }

    // A constant divisor: 0 and -1 are decided here, any other needs no check.
    void int_divide_imm(BinOp op, const x86::Gp& d, const x86::Gp& a, int64_t v) {
        if (v == 0) {
            if (op == BinOp::div) return void(cc_.xor_(d.r32(), d.r32()));
            return void(cc_.mov(d, a));
        }
        if (v == -1) {
            if (op == BinOp::rem) return void(cc_.xor_(d.r32(), d.r32()));
            cc_.mov(d, a);
            return void(cc_.neg(d));  // wraps: -MIN = MIN
        }
        const x86::Gp r = similar(d);
        cc_.mov(r, Imm(v));
        idiv(op, d, a, r);
    }

    // out = a / b or a % b by idiv: b neither 0 nor -1.
    void idiv(BinOp op, const x86::Gp& out, const x86::Gp& a, const x86::Gp& b) {
        const x86::Gp lo = similar(out), hi = similar(out);
        cc_.mov(lo, a);
        if (out.size() == 4) {
            cc_.cdq(hi, lo);
        } else {
            cc_.cqo(hi, lo);
        }
        cc_.idiv(hi, lo, b);
        cc_.mov(out, op == BinOp::div ? lo : hi);
    }

    void compare_branch_imm(const Inst& in, const Label& target) {
        if (fits32(in.imm)) {
            cc_.cmp(gp(in.a), Imm(in.imm));
        } else {
            const x86::Gp r = cc_.newGpq();
            cc_.mov(r, Imm(in.imm));
            cc_.cmp(gp(in.a), r);
        }
        cc_.j(int_cond(in.op), target);
    }

    // An integer comparison whose 0/1 is read again later: set it from the
    // flags and jump on the same flags (mov and movzx leave them alone).
    void compare_set_branch(const Inst& in, const Label& target) {
        cc_.cmp(gp(in.a), gp(in.b));
        set_bool(int_cond(in.op), gp(in.dst));
        cc_.j(int_cond(in.op), target);
    }

    // lea reaches ±2 GiB: any function.
    static constexpr size_t kTableReach = size_t{1} << 31;

    // The value is in 0..n-1 (checked before): zero-extending it is enough.
    void jump_table(const Inst& in, const Label& table, JumpAnnotation* ann) {
        const x86::Gp v = gp(in.a);
        const x86::Gp idx = cc_.newGpq(), base = cc_.newGpq(), target = cc_.newGpq();
        cc_.mov(v.size() == 4 ? idx.r32() : idx, v);
        cc_.lea(base, x86::ptr(table));
        cc_.movsxd(target, x86::dword_ptr(base, idx, 2));
        cc_.add(target, base);
        cc_.jmp(target, ann);
    }

    // idiv faults on a zero divisor and on MIN / -1: both are decided
    // before it (x/0 = 0, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0).
    void int_divide(BinOp op, const x86::Gp& d, const x86::Gp& a, const x86::Gp& b) {
        const x86::Gp r = similar(d);
        const Label by_zero = cc_.newLabel(), by_minus1 = cc_.newLabel(), done = cc_.newLabel();
        cc_.test(b, b);
        cc_.jz(by_zero);
        cc_.cmp(b, -1);
        cc_.je(by_minus1);
        idiv(op, r, a, b);
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

    static uint32_t shift_of(uint8_t scale) { return scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0; }

    // base + index * scale + offset, of the access's width.
    x86::Mem at(const Inst& in) {
        const auto disp = static_cast<int32_t>(in.imm);
        const auto size = static_cast<uint32_t>(mem_bytes(in.mem));
        if (in.c < 0) return x86::ptr(gp(in.a), disp, size);
        return x86::ptr(gp(in.a), wide(in.c), shift_of(in.scale), disp, size);
    }

    void load(const Inst& in) {
        const x86::Mem m = at(in);
        if (type(in.dst) == Type::f64) return void(cc_.movsd(xmm(in.dst), m));
        const x86::Gp d = gp(in.dst);
        switch (in.mem) {
            case Mem::b64: cc_.mov(d, m); break;
            case Mem::i32:
                if (d.size() == 4) {
                    cc_.mov(d, m);
                } else {
                    cc_.movsxd(d, m);
                }
                break;
            case Mem::u32: cc_.mov(d.r32(), m); break;  // writing 32 bits clears the upper half
            case Mem::i16: case Mem::i8: cc_.movsx(d, m); break;
            case Mem::u16: case Mem::u8: cc_.movzx(d.r32(), m); break;
        }
    }

    void store(const Inst& in) {
        const x86::Mem m = at(in);
        if (type(in.b) == Type::f64) return void(cc_.movsd(m, xmm(in.b)));
        const x86::Gp s = gp(in.b);
        switch (in.mem) {
            case Mem::b64: cc_.mov(m, s); break;
            case Mem::i32: case Mem::u32: cc_.mov(m, s.r32()); break;
            case Mem::i16: case Mem::u16: cc_.mov(m, s.r16()); break;
            case Mem::i8: case Mem::u8: cc_.mov(m, s.r8()); break;
        }
    }
};

}  // namespace

Error lower_x86(const Program& p, CodeHolder& code) { return lower_with<X86Lowering, x86::Compiler>(p, code); }

}  // namespace npk::codegen
