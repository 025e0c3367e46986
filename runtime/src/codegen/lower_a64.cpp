// lower_a64.cpp — the builder's program as AArch64 code (asmjit
// a64::Compiler: virtual registers, asmjit allocates them).
//
// AArch64 already has the portable semantics where x86 needs help: sdiv
// gives 0 for x/0 and MIN for MIN/-1 (so x%0 = x - 0*0 = x and
// MIN%-1 = MIN - MIN*-1 = 0 through msub), the register shifts take the
// count modulo the width, and fcvtzs truncates, saturates and makes NaN 0.
#include "codegen/lower_asmjit.h"

#include <asmjit/arm/a64compiler.h>

namespace npk::codegen {
namespace {

using namespace asmjit;
using arm::CondCode;

class A64Lowering : public Lowering<A64Lowering, a64::Compiler, a64::Reg> {
public:
    using Lowering::Lowering;

private:
    friend Lowering;

    a64::Gp gp(int32_t v) { return reg(v).as<a64::Gp>(); }
    a64::Vec vec(int32_t v) { return reg(v).as<a64::Vec>(); }

    a64::Reg new_reg(Type t) {
        switch (t) {
            case Type::i32: return cc_.newGpw();
            case Type::f64: return cc_.newVecD();
            default: return cc_.newGpx();
        }
    }

    // Any constant, 16 bits at a time (movz, then movk for each non-zero half).
    void load_imm(const a64::Gp& r, uint64_t v) {
        const unsigned halves = r.size() == 4 ? 2 : 4;
        bool first = true;
        for (unsigned i = 0; i < halves; ++i) {
            const auto h = static_cast<uint16_t>(v >> (16 * i));
            if (h == 0) continue;
            if (first) {
                cc_.movz(r, Imm(h), Imm(16 * i));
            } else {
                cc_.movk(r, Imm(h), Imm(16 * i));
            }
            first = false;
        }
        if (first) cc_.movz(r, Imm(0), Imm(0));
    }

    a64::Gp address(uint64_t a) {
        const a64::Gp r = cc_.newGpx();
        load_imm(r, a);
        return r;
    }

    void zero_reg(const a64::Reg& r, Type t) {
        if (t == Type::f64) {
            cc_.fmov(r.as<a64::Vec>(), address(0));
        } else {
            load_imm(r.as<a64::Gp>(), 0);
        }
    }

    void const_int(const Inst& in) { load_imm(gp(in.dst), static_cast<uint64_t>(in.imm)); }
    void const_f64(const Inst& in) { cc_.fmov(vec(in.dst), address(static_cast<uint64_t>(in.imm))); }

    void mov(int32_t dst, int32_t src) {
        if (type(dst) == Type::f64) {
            cc_.fmov(vec(dst), vec(src));
        } else {
            cc_.mov(gp(dst), gp(src));
        }
    }

    void neg(const Inst& in) {
        if (type(in.dst) == Type::f64) {
            cc_.fneg(vec(in.dst), vec(in.a));
        } else {
            cc_.neg(gp(in.dst), gp(in.a));
        }
    }

    void not_(const Inst& in) { cc_.mvn(gp(in.dst), gp(in.a)); }
    void jump(const Label& l) { cc_.b(l); }
    void branch(const a64::Reg& cond, const Label& l) { cc_.cbnz(cond.as<a64::Gp>(), l); }

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

    void compare_branch(const Inst& in, const Label& target) {
        if (type(in.a) == Type::f64) {
            cc_.fcmp(vec(in.a), vec(in.b));
        } else {
            cc_.cmp(gp(in.a), gp(in.b));
        }
        cc_.b(cond(in), target);
    }

    // Three-operand forms read both operands before writing: any aliasing is fine.
    void int_binop(const Inst& in) {
        const a64::Gp d = gp(in.dst), a = gp(in.a), b = gp(in.b);
        switch (in.op) {
            case BinOp::add: cc_.add(d, a, b); break;
            case BinOp::sub: cc_.sub(d, a, b); break;
            case BinOp::mul: cc_.mul(d, a, b); break;
            case BinOp::div: cc_.sdiv(d, a, b); break;
            case BinOp::rem: {
                const a64::Gp q = a.size() == 4 ? cc_.newGpw() : cc_.newGpx();
                cc_.sdiv(q, a, b);
                cc_.msub(d, q, b, a);  // a - q*b
                break;
            }
            case BinOp::and_: cc_.and_(d, a, b); break;
            case BinOp::or_: cc_.orr(d, a, b); break;
            case BinOp::xor_: cc_.eor(d, a, b); break;
            case BinOp::shl: cc_.lsl(d, a, b); break;
            case BinOp::shr: cc_.asr(d, a, b); break;
            case BinOp::ushr: cc_.lsr(d, a, b); break;
            default:
                cc_.cmp(a, b);
                cc_.cset(d, Imm(static_cast<uint32_t>(cond(in))));
                break;
        }
    }

    void f64_binop(const Inst& in) {
        const a64::Vec a = vec(in.a), b = vec(in.b);
        switch (in.op) {
            case BinOp::add: cc_.fadd(vec(in.dst), a, b); break;
            case BinOp::sub: cc_.fsub(vec(in.dst), a, b); break;
            case BinOp::mul: cc_.fmul(vec(in.dst), a, b); break;
            case BinOp::div: cc_.fdiv(vec(in.dst), a, b); break;
            default:
                cc_.fcmp(a, b);
                cc_.cset(gp(in.dst), Imm(static_cast<uint32_t>(cond(in))));
                break;
        }
    }

    // Between different types (the same type is a move).
    void convert(int32_t dst, int32_t src) {
        const Type td = type(dst), ts = type(src);
        if (td == Type::f64) return void(cc_.scvtf(vec(dst), gp(src)));
        if (ts == Type::f64) return void(cc_.fcvtzs(gp(dst), vec(src)));
        if (ts == Type::i32) {
            cc_.sxtw(gp(dst), gp(src));
        } else if (td == Type::i32) {
            cc_.mov(gp(dst), gp(src).w());
        } else {
            cc_.mov(gp(dst), gp(src));
        }
    }

    // ldr / str take a scaled unsigned 12-bit offset, ldur / stur a signed
    // 9-bit one; anything else is added to the base first.
    void load(const Inst& in) { memory(in); }
    void store(const Inst& in) { memory(in); }

    void memory(const Inst& in) {
        const int32_t v = in.kind == Kind::load ? in.dst : in.b;
        const Type t = type(v);
        const int64_t size = t == Type::i32 ? 4 : 8;
        const int64_t off = in.imm;
        a64::Gp base = gp(in.a);
        int32_t disp = static_cast<int32_t>(off);
        const bool scaled = off >= 0 && off % size == 0 && off / size <= 4095;
        const bool unscaled = off >= -256 && off <= 255;
        if (!scaled && !unscaled) {
            const a64::Gp addr = cc_.newGpx();
            cc_.add(addr, base, address(static_cast<uint64_t>(off)));
            base = addr;
            disp = 0;
        }
        const arm::Mem m = arm::ptr(base, disp);
        const bool u = !scaled && unscaled;
        if (in.kind == Kind::load) {
            if (t == Type::f64) {
                u ? cc_.ldur(vec(v), m) : cc_.ldr(vec(v), m);
            } else {
                u ? cc_.ldur(gp(v), m) : cc_.ldr(gp(v), m);
            }
        } else {
            if (t == Type::f64) {
                u ? cc_.stur(vec(v), m) : cc_.str(vec(v), m);
            } else {
                u ? cc_.stur(gp(v), m) : cc_.str(gp(v), m);
            }
        }
    }
};

}  // namespace

Error lower_a64(const Program& p, CodeHolder& code) { return lower_with<A64Lowering, a64::Compiler>(p, code); }

}  // namespace npk::codegen
