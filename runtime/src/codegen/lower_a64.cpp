// lower_a64.cpp — the builder's program as AArch64 code (asmjit
// a64::Compiler: virtual registers, asmjit allocates them).
//
// AArch64 already has the portable semantics where x86 needs help: sdiv
// gives 0 for x/0 and MIN for MIN/-1 (so x%0 = x - 0*0 = x and
// MIN%-1 = MIN - MIN*-1 = 0 through msub), the register shifts take the
// count modulo the width, and fcvtzs truncates, saturates and makes NaN 0.
#include "codegen/lower_asmjit.h"

#include <asmjit/arm/a64compiler.h>
#include <asmjit/arm/a64utils.h>

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

    // A call of the function itself: through its entry's address (this
    // asmjit's Compiler turns an invoke of a label into an invalid blr).
    a64::Gp self_target(const Label& entry) {
        const a64::Gp r = cc_.newGpx();
        cc_.adr(r, entry);
        return r;
    }

    // The PTR variable a call_indirect goes through.
    a64::Gp callee(int32_t v) { return gp(v); }

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

    static CondCode int_cond(BinOp op) {
        static constexpr CondCode kInt[] = {
            CondCode::kEQ, CondCode::kNE, CondCode::kLT, CondCode::kLE, CondCode::kGT,
            CondCode::kGE, CondCode::kLO, CondCode::kLS, CondCode::kHI, CondCode::kHS,
        };
        return kInt[static_cast<int>(op) - static_cast<int>(BinOp::eq)];
    }

    // An I32 operand sign-extended to 64 bits; a 64-bit one as it is.
    a64::Gp wide(int32_t v) {
        if (type(v) != Type::i32) return gp(v);
        const a64::Gp t = cc_.newGpx();
        cc_.sxtw(t, gp(v));
        return t;
    }

    a64::Gp similar(const a64::Gp& r) { return r.size() == 4 ? cc_.newGpw() : cc_.newGpx(); }

    // ptr ± int, int + ptr: 64-bit arithmetic on sign-extended operands.
    void mixed_binop(const Inst& in) {
        const a64::Gp a = wide(in.a), b = wide(in.b);
        if (in.op == BinOp::add) {
            cc_.add(gp(in.dst), a, b);
        } else {
            cc_.sub(gp(in.dst), a, b);
        }
    }

    // cmp with an immediate where one encodes (12 bits, or cmn of the
    // negation), otherwise with the value in a register.
    void compare_imm(const a64::Gp& a, int64_t v) {
        if (v >= 0 && v < 4096) return void(cc_.cmp(a, Imm(v)));
        if (v < 0 && v > -4096) return void(cc_.cmn(a, Imm(-v)));
        const a64::Gp r = similar(a);
        load_imm(r, static_cast<uint64_t>(v));
        cc_.cmp(a, r);
    }

    // dst = lhs op imm with the immediate encoded where AArch64 has a form
    // for it (add / sub 12 bits, logical bit masks, shifts, compares); the
    // rest (mul, div, rem, other values) take it in a register.
    void int_binop_imm(const Inst& in) {
        const a64::Gp d = gp(in.dst), a = gp(in.a);
        const int64_t v = in.imm;
        const unsigned bits = a.size() * 8;
        const uint64_t u = bits == 32 ? static_cast<uint64_t>(static_cast<uint32_t>(v)) : static_cast<uint64_t>(v);
        switch (in.op) {
            case BinOp::add: case BinOp::sub: {
                const bool add = in.op == BinOp::add;
                if (v >= 0 && v < 4096) return void(add ? cc_.add(d, a, Imm(v)) : cc_.sub(d, a, Imm(v)));
                if (v < 0 && v > -4096) return void(add ? cc_.sub(d, a, Imm(-v)) : cc_.add(d, a, Imm(-v)));
                break;
            }
            case BinOp::and_: case BinOp::or_: case BinOp::xor_:
                if (!a64::Utils::isLogicalImm(u, bits)) break;
                if (in.op == BinOp::and_) cc_.and_(d, a, Imm(u));
                if (in.op == BinOp::or_) cc_.orr(d, a, Imm(u));
                if (in.op == BinOp::xor_) cc_.eor(d, a, Imm(u));
                return;
            case BinOp::shl: case BinOp::shr: case BinOp::ushr: {
                const uint64_t n = u & (bits - 1);
                if (n == 0) return void(cc_.mov(d, a));
                if (in.op == BinOp::shl) cc_.lsl(d, a, Imm(n));
                if (in.op == BinOp::shr) cc_.asr(d, a, Imm(n));
                if (in.op == BinOp::ushr) cc_.lsr(d, a, Imm(n));
                return;
            }
            case BinOp::eq: case BinOp::ne: case BinOp::lt: case BinOp::le: case BinOp::gt: case BinOp::ge:
            case BinOp::ult: case BinOp::ule: case BinOp::ugt: case BinOp::uge:
                compare_imm(a, v);
                return void(cc_.cset(d, Imm(static_cast<uint32_t>(int_cond(in.op)))));
            case BinOp::mul: case BinOp::div: case BinOp::rem: break;
        }
        const a64::Gp r = similar(a);
        load_imm(r, u);
        int_rr(in.op, d, a, r);
    }

    void compare_branch_imm(const Inst& in, const Label& target) {
        if (in.imm == 0 && in.op == BinOp::eq) return void(cc_.cbz(gp(in.a), target));
        if (in.imm == 0 && in.op == BinOp::ne) return void(cc_.cbnz(gp(in.a), target));
        compare_imm(gp(in.a), in.imm);
        cc_.b(int_cond(in.op), target);
    }

    void compare_set_branch(const Inst& in, const Label& target) {
        cc_.cmp(gp(in.a), gp(in.b));
        cc_.cset(gp(in.dst), Imm(static_cast<uint32_t>(int_cond(in.op))));
        cc_.b(int_cond(in.op), target);
    }

    // through the table of offsets from its own start (adr reaches 1 MiB).
    // adr reaches ±1 MiB.
    static constexpr size_t kTableReach = size_t{1} << 20;

    // The value is in 0..n-1 (checked before): zero-extending it is enough.
    void jump_table(const Inst& in, const Label& table, JumpAnnotation* ann) {
        const a64::Gp v = gp(in.a);
        const a64::Gp idx = cc_.newGpx(), base = cc_.newGpx(), off = cc_.newGpx();
        cc_.mov(v.size() == 4 ? idx.w() : idx, v);
        cc_.adr(base, table);
        cc_.ldrsw(off, a64::ptr(base, idx, arm::lsl(2)));
        cc_.add(base, base, off);
        cc_.br(base, ann);
    }

    // Three-operand forms read both operands before writing: any aliasing is fine.
    void int_binop(const Inst& in) { int_rr(in.op, gp(in.dst), gp(in.a), gp(in.b)); }

    void int_rr(BinOp op, const a64::Gp& d, const a64::Gp& a, const a64::Gp& b) {
        switch (op) {
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
            case BinOp::eq: case BinOp::ne: case BinOp::lt: case BinOp::le: case BinOp::gt: case BinOp::ge:
            case BinOp::ult: case BinOp::ule: case BinOp::ugt: case BinOp::uge:
                cc_.cmp(a, b);
                cc_.cset(d, Imm(static_cast<uint32_t>(int_cond(op))));
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

    static uint32_t shift_of(uint8_t scale) { return scale == 8 ? 3 : scale == 4 ? 2 : scale == 2 ? 1 : 0; }

    // The address of an access of `size` bytes, and whether it needs the
    // unscaled form (ldur / stur). ldr / str take a scaled unsigned 12-bit
    // offset or a register index shifted by 0 or log2(size), ldur / stur a
    // signed 9-bit offset; anything else is added to the base first.
    arm::Mem at(const Inst& in, int64_t size, bool* unscaled) {
        *unscaled = false;
        a64::Gp base = gp(in.a);
        const int64_t off = in.imm;
        if (in.c >= 0) {
            const a64::Gp idx = wide(in.c);
            const uint32_t shift = shift_of(in.scale);
            if (off == 0 && (in.scale == 1 || in.scale == size)) return a64::ptr(base, idx, arm::lsl(shift));
            const a64::Gp addr = cc_.newGpx();
            if (shift == 0) {
                cc_.add(addr, base, idx);
            } else {
                cc_.lsl(addr, idx, Imm(shift));
                cc_.add(addr, base, addr);
            }
            base = addr;
        }
        const bool scaled = off >= 0 && off % size == 0 && off / size <= 4095;
        if (scaled) return a64::ptr(base, static_cast<int32_t>(off));
        if (off >= -256 && off <= 255) {
            *unscaled = true;
            return a64::ptr(base, static_cast<int32_t>(off));
        }
        const a64::Gp addr = cc_.newGpx();
        cc_.add(addr, base, address(static_cast<uint64_t>(off)));
        return a64::ptr(addr, 0);
    }

    void load(const Inst& in) {
        bool u;
        const arm::Mem m = at(in, mem_bytes(in.mem), &u);
        if (type(in.dst) == Type::f64) return void(u ? cc_.ldur(vec(in.dst), m) : cc_.ldr(vec(in.dst), m));
        const a64::Gp d = gp(in.dst);
        switch (in.mem) {
            case Mem::b64: u ? cc_.ldur(d, m) : cc_.ldr(d, m); break;
            case Mem::i32:
                if (d.size() == 4) {
                    u ? cc_.ldur(d, m) : cc_.ldr(d, m);
                } else {
                    u ? cc_.ldursw(d, m) : cc_.ldrsw(d, m);
                }
                break;
            case Mem::u32: u ? cc_.ldur(d.w(), m) : cc_.ldr(d.w(), m); break;  // clears the upper half
            case Mem::i16: u ? cc_.ldursh(d, m) : cc_.ldrsh(d, m); break;
            case Mem::u16: u ? cc_.ldurh(d.w(), m) : cc_.ldrh(d.w(), m); break;
            case Mem::i8: u ? cc_.ldursb(d, m) : cc_.ldrsb(d, m); break;
            case Mem::u8: u ? cc_.ldurb(d.w(), m) : cc_.ldrb(d.w(), m); break;
        }
    }

    void store(const Inst& in) {
        bool u;
        const arm::Mem m = at(in, mem_bytes(in.mem), &u);
        if (type(in.b) == Type::f64) return void(u ? cc_.stur(vec(in.b), m) : cc_.str(vec(in.b), m));
        const a64::Gp s = gp(in.b);
        switch (in.mem) {
            case Mem::b64: u ? cc_.stur(s, m) : cc_.str(s, m); break;
            case Mem::i32: case Mem::u32: u ? cc_.stur(s.w(), m) : cc_.str(s.w(), m); break;
            case Mem::i16: case Mem::u16: u ? cc_.sturh(s.w(), m) : cc_.strh(s.w(), m); break;
            case Mem::i8: case Mem::u8: u ? cc_.sturb(s.w(), m) : cc_.strb(s.w(), m); break;
        }
    }
};

}  // namespace

Error lower_a64(const Program& p, CodeHolder& code) { return lower_with<A64Lowering, a64::Compiler>(p, code); }

}  // namespace npk::codegen
