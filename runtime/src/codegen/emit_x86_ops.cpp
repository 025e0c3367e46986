// emit_x86_ops.cpp — the x86-64 fast tier's arithmetic, comparisons,
// conversions and memory access (the emitter class: emit_x86.h; the frame,
// control flow and calls: emit_x86.cpp, whose head describes registers and
// frame). Where x86 differs from the portable semantics the code says so:
// idiv traps on x/0 and MIN/-1 (both are tested first), cvttsd2si returns
// MIN for NaN and out-of-range values (fixed up after the fact).
#include "codegen/emit_x86.h"

namespace npk::codegen::x86emit {

void X86Emitter::copy(int32_t dst, int32_t src) {
    if (type(dst) == Type::f64) {
        if (reg(dst) >= 0 && reg(src) >= 0) return put_xmm(dst, xmm(reg(src)));
        return put_xmm(dst, in_xmm(src, XMM15));
    }
    if (reg(dst) >= 0 && reg(src) < 0) return void(a_.mov(gp(dst), mem(src)));
    put_gp(dst, in_gp(src, RAX));
}

void X86Emitter::const_int(const Inst& in) {
    const int32_t v = in.dst;
    if (reg(v) >= 0) {
        if (in.imm == 0) return void(a_.xor_(x86::gpd(static_cast<uint32_t>(reg(v))), x86::gpd(static_cast<uint32_t>(reg(v)))));
        return void(a_.mov(gp(v), Imm(in.imm)));
    }
    if (type(v) == Type::i32 || (in.imm >= INT32_MIN && in.imm <= INT32_MAX)) return void(a_.mov(mem(v), Imm(in.imm)));
    a_.mov(x86::rax, Imm(in.imm));
    a_.mov(mem(v), x86::rax);
}

void X86Emitter::const_f64(const Inst& in) {
    const int32_t v = in.dst;
    if (reg(v) >= 0) {
        if (in.imm == 0) return void(a_.xorps(xmm(reg(v)), xmm(reg(v))));
        a_.mov(x86::rax, Imm(in.imm));
        return void(a_.movq(xmm(reg(v)), x86::rax));
    }
    if (in.imm >= INT32_MIN && in.imm <= INT32_MAX) return void(a_.mov(mem(v), Imm(in.imm)));
    a_.mov(x86::rax, Imm(in.imm));
    a_.mov(mem(v), x86::rax);
}

void X86Emitter::unary(const Inst& in) {
    if (type(in.dst) == Type::f64) {  // flip the sign bit (NaN included), as C's unary minus
        const x86::Xmm t = xmm(reg(in.dst) >= 0 ? reg(in.dst) : XMM15);
        a_.mov(x86::rax, Imm(INT64_MIN));
        a_.movq(xmm(XMM14), x86::rax);
        if (reg(in.a) >= 0) {
            if (reg(in.a) != static_cast<int>(t.id())) a_.movapd(t, xmm(reg(in.a)));
        } else {
            a_.movsd(t, mem(in.a));
        }
        a_.xorpd(t, xmm(XMM14));
        return put_xmm(in.dst, t);
    }
    const x86::Gp t = sized(reg(in.dst) >= 0 ? reg(in.dst) : RAX, type(in.dst));
    if (reg(in.a) != static_cast<int>(t.id())) a_.emit(x86::Inst::kIdMov, t, rm(in.a));
    if (in.kind == Kind::neg) {
        a_.neg(t);
    } else {
        a_.not_(t);
    }
    put_gp(in.dst, t);
}

// The right operand: b's register or slot, or the immediate (through
// r11 when it does not fit in a sign-extended 32 bits).
Operand X86Emitter::rhs(const Inst& in, Type t) {
    if (in.kind == Kind::binop || in.kind == Kind::branch_cmp) return rm(in.b);
    if (t == Type::i32 || (in.imm >= INT32_MIN && in.imm <= INT32_MAX)) return Imm(in.imm);
    a_.mov(x86::r11, Imm(in.imm));
    return x86::r11;
}

void X86Emitter::int_binop(const Inst& in) {
    const x86::Gp t = sized(work_reg(in.dst, in.a, rhs_reg(in), RAX), type(in.dst));
    const Operand b = rhs(in, type(in.a));
    if (reg(in.a) != static_cast<int>(t.id())) a_.emit(x86::Inst::kIdMov, t, rm(in.a));
    static constexpr x86::Inst::Id kId[] = {x86::Inst::kIdAdd, x86::Inst::kIdSub, x86::Inst::kIdImul,
                                            x86::Inst::kIdNone, x86::Inst::kIdNone, x86::Inst::kIdAnd,
                                            x86::Inst::kIdOr, x86::Inst::kIdXor};
    a_.emit(kId[static_cast<int>(in.op) - 1], t, b);
    put_gp(in.dst, t);
}

// An I32 operand sign-extended, anything else as its 64 bits.
x86::Gp X86Emitter::as64(int32_t v, int scratch) {
    if (type(v) == Type::i32) {
        a_.emit(x86::Inst::kIdMovsxd, x86::gpq(static_cast<uint32_t>(scratch)), rm(v));
        return x86::gpq(static_cast<uint32_t>(scratch));
    }
    if (reg(v) >= 0) return gp(v);
    a_.mov(x86::gpq(static_cast<uint32_t>(scratch)), mem(v));
    return x86::gpq(static_cast<uint32_t>(scratch));
}

// Pointer arithmetic between a PTR and an integer (an I32 sign-extended).
void X86Emitter::mixed(const Inst& in) {
    const x86::Gp b = as64(in.b, RCX);
    const x86::Gp a = as64(in.a, RDX);
    a_.mov(x86::rax, a);
    if (in.op == BinOp::add) {
        a_.add(x86::rax, b);
    } else {
        a_.sub(x86::rax, b);
    }
    put_gp(in.dst, x86::rax);
}

// The count goes in cl first; x86 takes it modulo 32 or 64, as we want.
void X86Emitter::shift(const Inst& in) {
    const bool by_imm = in.kind == Kind::binop_imm;
    if (!by_imm) {
        if (reg(in.b) >= 0) {
            a_.mov(x86::ecx, x86::gpd(static_cast<uint32_t>(reg(in.b))));
        } else {
            a_.mov(x86::ecx, x86::dword_ptr(x86::rsp, slot_base_ + 8 * loc(in.b).slot));
        }
    }
    const x86::Gp t = sized(reg(in.dst) >= 0 ? reg(in.dst) : RAX, type(in.dst));
    if (reg(in.a) != static_cast<int>(t.id())) a_.emit(x86::Inst::kIdMov, t, rm(in.a));
    const Operand count = by_imm ? Operand(Imm(in.imm & (t.size() * 8 - 1))) : Operand(x86::cl);
    if (in.op == BinOp::shl) a_.emit(x86::Inst::kIdShl, t, count);
    if (in.op == BinOp::shr) a_.emit(x86::Inst::kIdSar, t, count);
    if (in.op == BinOp::ushr) a_.emit(x86::Inst::kIdShr, t, count);
    put_gp(in.dst, t);
}

// idiv faults on a zero divisor and on MIN / -1: both are decided before
// it (x/0 = 0, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0). The result is in rax.
void X86Emitter::divide(const Inst& in) {
    const Type t = type(in.dst);
    x86::Gp b = sized(R11, t);
    if (in.kind == Kind::binop_imm) {
        a_.mov(b, Imm(in.imm));
    } else {
        b = in_gp(in.b, R11);
    }
    const x86::Gp ax = sized(RAX, t), dx = sized(RDX, t);
    const Label minus1 = a_.newLabel(), by_zero = a_.newLabel(), done = a_.newLabel();
    a_.emit(x86::Inst::kIdMov, ax, rm(in.a));
    a_.test(b, b);
    a_.jz(by_zero);
    a_.cmp(b, -1);
    a_.je(minus1);
    if (t == Type::i32) {
        a_.cdq();
    } else {
        a_.cqo();
    }
    a_.idiv(b);
    if (in.op == BinOp::rem) a_.mov(ax, dx);
    a_.jmp(done);
    a_.bind(minus1);
    if (in.op == BinOp::div) {
        a_.neg(ax);  // wraps: -MIN = MIN
    } else {
        a_.xor_(x86::eax, x86::eax);
    }
    a_.jmp(done);
    a_.bind(by_zero);
    if (in.op == BinOp::div) a_.xor_(x86::eax, x86::eax);  // x%0 = x: rax holds it
    a_.bind(done);
    put_gp(in.dst, ax);
}

void X86Emitter::int_compare(const Inst& in) {
    const x86::Gp a = in_gp(in.a, RAX);
    a_.emit(x86::Inst::kIdCmp, a, rhs(in, type(in.a)));
    a_.set(int_cond(in.op), x86::al);
    const x86::Gp d = reg(in.dst) >= 0 ? gp(in.dst) : x86::Gp(x86::eax);
    a_.movzx(d, x86::al);
    put_gp(in.dst, d);
}

void X86Emitter::f64_binop(const Inst& in) {
    const x86::Xmm t = xmm(work_reg(in.dst, in.a, reg(in.b), XMM15));
    if (reg(in.a) >= 0) {
        if (reg(in.a) != static_cast<int>(t.id())) a_.movapd(t, xmm(reg(in.a)));
    } else {
        a_.movsd(t, mem(in.a));
    }
    static constexpr x86::Inst::Id kId[] = {x86::Inst::kIdAddsd, x86::Inst::kIdSubsd, x86::Inst::kIdMulsd,
                                            x86::Inst::kIdDivsd};
    a_.emit(kId[static_cast<int>(in.op) - 1], t, rm(in.b));
    put_xmm(in.dst, t);
}

// ucomisd sets ZF, PF and CF all to 1 for an unordered pair: "above" and
// "above or equal" are false then, so a < b is tested as b > a. EQ must
// also see PF clear, NE is true on PF.
void X86Emitter::f64_compare(const Inst& in) {
    const bool swap = in.op == BinOp::lt || in.op == BinOp::le;
    const x86::Xmm first = in_xmm(swap ? in.b : in.a, XMM15);
    a_.emit(x86::Inst::kIdUcomisd, first, rm(swap ? in.a : in.b));
    if (in.op == BinOp::eq) {
        a_.sete(x86::al);
        a_.setnp(x86::cl);
        a_.and_(x86::al, x86::cl);
    } else if (in.op == BinOp::ne) {
        a_.setne(x86::al);
        a_.setp(x86::cl);
        a_.or_(x86::al, x86::cl);
    } else {
        a_.set(in.op == BinOp::lt || in.op == BinOp::gt ? CondCode::kA : CondCode::kAE, x86::al);
    }
    const x86::Gp d = reg(in.dst) >= 0 ? gp(in.dst) : x86::Gp(x86::eax);
    a_.movzx(d, x86::al);
    put_gp(in.dst, d);
}

// Between different types (the same type is a copy).
void X86Emitter::convert(const Inst& in) {
    const Type td = type(in.dst), ts = type(in.a);
    if (td == Type::f64) {
        const x86::Xmm t = xmm(reg(in.dst) >= 0 ? reg(in.dst) : XMM15);
        a_.xorps(t, t);  // cvtsi2sd keeps the upper lanes: break the dependency
        a_.emit(x86::Inst::kIdCvtsi2sd, t, rm(in.a));
        return put_xmm(in.dst, t);
    }
    const x86::Gp t = sized(reg(in.dst) >= 0 ? reg(in.dst) : RAX, td);
    if (ts == Type::f64) {
        f64_to_int(t, in_xmm(in.a, XMM15));
    } else if (ts == Type::i32) {
        a_.emit(x86::Inst::kIdMovsxd, t, rm(in.a));
    } else if (td == Type::i32) {
        if (reg(in.a) >= 0) {
            a_.mov(t, x86::gpd(static_cast<uint32_t>(reg(in.a))));
        } else {
            a_.mov(t, x86::dword_ptr(x86::rsp, slot_base_ + 8 * loc(in.a).slot));
        }
    } else {
        return copy(in.dst, in.a);  // I64 <-> PTR: the bits
    }
    put_gp(in.dst, t);
}

// cvttsd2si gives MIN for NaN and for anything out of range; only then is
// the value looked at again: NaN -> 0, too large -> MAX, too small stays MIN.
void X86Emitter::f64_to_int(const x86::Gp& d, const x86::Xmm& s) {
    const Label done = a_.newLabel(), nan = a_.newLabel();
    a_.cvttsd2si(d, s);
    a_.cmp(d, 1);
    a_.jno(done);  // d - 1 overflows only for d == MIN
    a_.ucomisd(s, s);
    a_.jp(nan);
    a_.xorps(xmm(XMM14), xmm(XMM14));
    a_.ucomisd(s, xmm(XMM14));
    a_.jbe(done);
    a_.mov(d, d.size() == 4 ? Imm(INT32_MAX) : Imm(INT64_MAX));
    a_.jmp(done);
    a_.bind(nan);
    a_.xor_(d.r32(), d.r32());
    a_.bind(done);
}

// base (r11 when spilled) + index * scale (rcx when spilled or I32,
// sign-extended) + offset.
x86::Mem X86Emitter::address(const Inst& in, uint32_t size) {
    const x86::Gp base = in_gp(in.a, R11);
    const auto off = static_cast<int32_t>(in.imm);
    if (in.c < 0) return x86::ptr(base, off, size);
    const x86::Gp index = as64(in.c, RCX);
    const uint32_t shift = in.scale == 8 ? 3 : in.scale == 4 ? 2 : in.scale == 2 ? 1 : 0;
    return x86::ptr(base, index, shift, off, size);
}

void X86Emitter::load(const Inst& in) {
    const Type t = type(in.dst);
    const auto bytes = static_cast<uint32_t>(mem_bytes(in.mem));
    const x86::Mem m = address(in, bytes);
    if (t == Type::f64) {
        const x86::Xmm d = xmm(reg(in.dst) >= 0 ? reg(in.dst) : XMM15);
        a_.movsd(d, m);
        return put_xmm(in.dst, d);
    }
    const int id = reg(in.dst) >= 0 ? reg(in.dst) : RAX;
    const x86::Gp d = sized(id, t);
    if (bytes == 8 || (bytes == 4 && (t == Type::i32 || !mem_signed(in.mem)))) {
        a_.mov(bytes == 8 ? d : x86::gpd(static_cast<uint32_t>(id)), m);  // a 32-bit write zero-extends
    } else if (mem_signed(in.mem)) {
        if (bytes == 4) {
            a_.movsxd(d, m);
        } else {
            a_.movsx(d, m);
        }
    } else {
        a_.movzx(x86::gpd(static_cast<uint32_t>(id)), m);
    }
    put_gp(in.dst, d);
}

void X86Emitter::store(const Inst& in) {
    const auto bytes = static_cast<uint32_t>(mem_bytes(in.mem));
    if (type(in.b) == Type::f64) {
        const x86::Xmm v = in_xmm(in.b, XMM15);
        return void(a_.movsd(address(in, 8), v));
    }
    const x86::Gp v = in_gp(in.b, RAX);
    const x86::Mem m = address(in, bytes);
    const auto id = v.id();
    const x86::Gp w = bytes == 1 ? x86::Gp(x86::gpb(id)) : bytes == 2 ? x86::Gp(x86::gpw(id))
                    : bytes == 4 ? x86::Gp(x86::gpd(id)) : x86::Gp(x86::gpq(id));
    a_.mov(m, w);
}

// x86 operates on memory directly. Two shapes a front end writes for one
// memory cell are done so when the loaded temporary dies at once:
//   load t = [m]; t = t op imm; store [m] = t   ->  op [m], imm
//   load t = [m]; if (t == / != imm) goto L     ->  cmp [m], imm; je / jne L
// (op one of add sub and or xor: the low bytes of the result do not depend
// on how the load extended). Returns how many instructions it covered.
size_t X86Emitter::memory_operand(size_t k) {
    const Inst& ld = p_.insts[k];
    if (ld.kind != Kind::load || type(ld.dst) == Type::f64 || k + 1 >= p_.insts.size()) return 0;
    const int32_t t = ld.dst;
    if (t == ld.a || t == ld.c) return 0;
    const auto bytes = static_cast<uint32_t>(mem_bytes(ld.mem));
    const Inst& next = p_.insts[k + 1];
    auto dies_at = [&](size_t pos) { return al_.end[static_cast<size_t>(t)] <= static_cast<int32_t>(pos + 1); };
    auto fits = [&](int64_t v) {  // the immediate encodes at the access width (8 bytes: a sign-extended 32)
        const int64_t lo = bytes == 8 ? INT32_MIN : -(int64_t{1} << (bytes * 8 - 1));
        const int64_t hi = bytes == 8 ? INT32_MAX : (int64_t{1} << (bytes * 8)) - 1;
        return v >= lo && v <= hi;
    };
    if (next.kind == Kind::branch_cmp_imm && next.a == t && (next.op == BinOp::eq || next.op == BinOp::ne) &&
        dies_at(k + 1)) {
        // The loaded value's range, extended as the load does: the immediate must lie in it.
        const int64_t lo = bytes == 8 ? INT64_MIN : mem_signed(ld.mem) ? -(int64_t{1} << (bytes * 8 - 1)) : 0;
        const int64_t hi = bytes == 8 ? INT64_MAX
                                      : mem_signed(ld.mem) ? (int64_t{1} << (bytes * 8 - 1)) - 1 : (int64_t{1} << (bytes * 8)) - 1;
        if (next.imm < lo || next.imm > hi || !fits(next.imm)) return 0;
        const int64_t imm = bytes == 8 ? next.imm : static_cast<int64_t>(static_cast<uint64_t>(next.imm) & ((uint64_t{1} << (bytes * 8)) - 1));
        a_.cmp(address(ld, bytes), Imm(imm));
        a_.j(next.op == BinOp::eq ? CondCode::kE : CondCode::kNE, label(next.c));
        return 2;
    }
    if (k + 2 >= p_.insts.size() || next.kind != Kind::binop_imm || next.dst != t || next.a != t) return 0;
    const Inst& st = p_.insts[k + 2];
    if (st.kind != Kind::store || st.b != t || st.a != ld.a || st.c != ld.c || st.scale != ld.scale ||
        st.imm != ld.imm || mem_bytes(st.mem) != static_cast<int>(bytes) || !dies_at(k + 2)) {
        return 0;
    }
    static constexpr x86::Inst::Id kId[] = {x86::Inst::kIdAdd, x86::Inst::kIdSub, x86::Inst::kIdNone,
                                            x86::Inst::kIdNone, x86::Inst::kIdNone, x86::Inst::kIdAnd,
                                            x86::Inst::kIdOr, x86::Inst::kIdXor};
    const int op = static_cast<int>(next.op) - 1;
    if (op >= 8 || kId[op] == x86::Inst::kIdNone) return 0;
    // The low `bytes` of the immediate are what reach memory.
    int64_t imm = next.imm;
    if (bytes < 8) imm = static_cast<int64_t>(static_cast<uint64_t>(imm) & ((uint64_t{1} << (bytes * 8)) - 1));
    if (!fits(imm)) return 0;
    a_.emit(kId[op], address(ld, bytes), Imm(imm));
    return 3;
}

}  // namespace npk::codegen::x86emit
