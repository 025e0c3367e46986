// emit_x86.cpp — the fast tier for x86-64 System V: the program, its
// registers allocated by regalloc.cpp, encoded by asmjit's x86::Assembler.
//
// Registers: rsi rdi r8 r9 r10 (caller-saved) and rbx r12..r15
// (callee-saved) for integers, xmm0..xmm13 for F64. rax rcx rdx r11 and
// xmm14 xmm15 are scratch: idiv needs rax:rdx, a shift count lives in cl,
// a spilled operand is loaded into one of them. Frame: rbp is the frame
// pointer (what gdb and perf walk), the used callee-saved registers are
// pushed, then rsp drops by the slot area: [rsp, +16) outgoing stack
// arguments, then one 8-byte slot per spilled variable, then one per
// register for saving caller-saved registers around calls.
//
// Where x86 differs from the portable semantics the code says so: idiv
// traps on x/0 and MIN/-1 (both are tested first), cvttsd2si returns MIN
// for NaN and out-of-range values (fixed up after the fact).
#include "codegen/emit.h"

#include "codegen/moves.h"
#include "codegen/regalloc.h"

#include <asmjit/x86.h>

namespace npk::codegen {
namespace {

using namespace asmjit;
using x86::CondCode;

enum : uint8_t { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7, R11 = 11 };
constexpr uint8_t XMM14 = 14, XMM15 = 15;

const RegFile& x86_regs() {
    static const RegFile rf = [] {
        RegFile r{};
        const uint8_t gp[] = {RSI, RDI, 8, 9, 10, RBX, 12, 13, 14, 15};
        for (uint8_t g : gp) r.cls[0].alloc[r.cls[0].n++] = g;
        r.cls[0].callee_saved = 1u << RBX | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 15;
        const uint8_t args[] = {RDI, RSI, RDX, RCX, 8, 9};
        for (uint8_t g : args) r.cls[0].args[r.cls[0].n_args++] = g;
        for (uint8_t x = 0; x < 14; ++x) r.cls[1].alloc[r.cls[1].n++] = x;
        for (uint8_t x = 0; x < 8; ++x) r.cls[1].args[r.cls[1].n_args++] = x;
        return r;
    }();
    return rf;
}

constexpr int32_t kOutArea = 16;  // stack arguments 7 and 8 of a call

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
    size_t call_index_ = 0;


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

void X86Emitter::prologue() {
    a_.push(x86::rbp);
    a_.mov(x86::rbp, x86::rsp);
    const uint32_t saved = al_.used[0] & x86_regs().cls[0].callee_saved;
    for (int r = 0; r < 16; ++r) {
        if (saved & (1u << r)) {
            a_.push(x86::gpq(static_cast<uint32_t>(r)));
            pushed_[n_pushed_++] = static_cast<uint8_t>(r);
        }
    }
    slot_base_ = al_.has_calls ? kOutArea : 0;
    save_base_ = slot_base_ + 8 * al_.slots;
    int32_t size = save_base_ + (al_.has_calls ? 8 * 32 : 0);
    size = (size + 15) & ~15;
    if (n_pushed_ & 1) size += 8;  // rsp 16-aligned below the frame
    frame_ = size;
    // Big frames grow a page at a time, touching each, so a thread's guard page is hit, not jumped.
    int32_t left = size;
    if (left > 4096) {
        a_.mov(x86::r11d, left / 4096);
        const Label again = a_.newLabel();
        a_.bind(again);
        a_.sub(x86::rsp, 4096);
        a_.or_(x86::dword_ptr(x86::rsp), 0);
        a_.dec(x86::r11d);
        a_.jnz(again);
        left %= 4096;
    }
    if (left > 0) a_.sub(x86::rsp, left);
    move_params();
    zero_vars();
}

void X86Emitter::epilogue() {
    a_.lea(x86::rsp, x86::ptr(x86::rbp, -8 * n_pushed_));
    for (int i = n_pushed_ - 1; i >= 0; --i) a_.pop(x86::gpq(pushed_[i]));
    a_.pop(x86::rbp);
    a_.ret();
}

// Parameters from where the ABI puts them to where the allocator wants
// them: slots first (their sources are untouched by it), then the
// register-to-register moves all at once, then loads of stack arguments.
void X86Emitter::move_params() {
    const RegFile& rf = x86_regs();
    RegMove moves[2][kMaxParams];
    int n_moves[2] = {0, 0}, seen[2] = {0, 0};
    struct Late {
        int32_t v, off;
    } late[kMaxParams];
    int n_late = 0;
    for (int32_t v : p_.params) {
        const int c = reg_class(type(v));
        const int k = seen[c]++;
        if (al_.end[static_cast<size_t>(v)] < 0) continue;  // never used
        if (k >= rf.cls[c].n_args) {  // the stack, above the return address and rbp
            const int32_t off = 16 + 8 * (k - rf.cls[c].n_args);
            if (reg(v) >= 0) {
                late[n_late++] = Late{v, off};
            } else {
                a_.mov(x86::rax, x86::qword_ptr(x86::rbp, off));
                a_.mov(mem(v), sized(RAX, type(v)));
            }
            continue;
        }
        const int src = rf.cls[c].args[k];
        if (reg(v) >= 0) {
            moves[c][n_moves[c]++] = RegMove{static_cast<int8_t>(reg(v)), static_cast<int8_t>(src)};
        } else if (c == 0) {
            a_.mov(mem(v), sized(src, type(v)));
        } else {
            a_.movsd(mem(v), xmm(src));
        }
    }
    parallel_move(moves[0], n_moves[0], R11, [&](int d, int s) { a_.mov(x86::gpq(static_cast<uint32_t>(d)), x86::gpq(static_cast<uint32_t>(s))); });
    parallel_move(moves[1], n_moves[1], XMM15, [&](int d, int s) { a_.movapd(xmm(d), xmm(s)); });
    for (int i = 0; i < n_late; ++i) a_.mov(gp(late[i].v), x86::ptr(x86::rbp, late[i].off, type(late[i].v) == Type::i32 ? 4 : 8));
}

// The variables some path reads before writing hold 0 (or 0.0) from entry.
void X86Emitter::zero_vars() {
    bool have_zero = false;
    for (size_t v = 0; v < p_.vars.size(); ++v) {
        if (!al_.zero[v]) continue;
        const auto var = static_cast<int32_t>(v);
        if (reg(var) >= 0) {
            if (type(var) == Type::f64) {
                a_.xorps(xmm(reg(var)), xmm(reg(var)));
            } else {
                a_.xor_(x86::gpd(static_cast<uint32_t>(reg(var))), x86::gpd(static_cast<uint32_t>(reg(var))));
            }
            continue;
        }
        if (!have_zero) a_.xor_(x86::eax, x86::eax);
        have_zero = true;
        a_.mov(x86::qword_ptr(x86::rsp, slot_base_ + 8 * loc(var).slot), x86::rax);
    }
}

void X86Emitter::emit(const Inst& in, size_t k) {
    switch (in.kind) {
        case Kind::const_int: return const_int(in);
        case Kind::const_f64: return const_f64(in);
        case Kind::mov: return copy(in.dst, in.a);
        case Kind::binop:
        case Kind::binop_imm:
            if (in.mixed) return mixed(in);
            if (type(in.a) == Type::f64) return is_compare(in.op) ? f64_compare(in) : f64_binop(in);
            if (is_compare(in.op)) return int_compare(in);
            if (in.op == BinOp::div || in.op == BinOp::rem) return divide(in);
            if (in.op == BinOp::shl || in.op == BinOp::shr || in.op == BinOp::ushr) return shift(in);
            return int_binop(in);
        case Kind::neg:
        case Kind::not_: return unary(in);
        case Kind::convert: return type(in.dst) == type(in.a) ? copy(in.dst, in.a) : convert(in);
        case Kind::load: return load(in);
        case Kind::store: return store(in);
        case Kind::bind: a_.bind(label(in.a)); return;
        case Kind::jump: a_.jmp(label(in.a)); return;
        case Kind::branch: return branch(in);
        case Kind::branch_cmp:
        case Kind::branch_cmp_imm: return compare_branch(in, label(in.c));
        case Kind::switch_: return switch_(in);
        case Kind::call:
        case Kind::call_indirect:
        case Kind::call_self: return call(in);
        case Kind::ret: return ret(in, k);
    }
}

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

// A comparison and the jump on its flags: a fused binop + branch, or
// branch_cmp / branch_cmp_imm. For F64 the flags read as in f64_compare.
void X86Emitter::compare_branch(const Inst& in, const Label& target) {
    if (type(in.a) != Type::f64) {
        const x86::Gp a = in_gp(in.a, RAX);
        a_.emit(x86::Inst::kIdCmp, a, rhs(in, type(in.a)));
        a_.j(int_cond(in.op), target);
        return;
    }
    if (in.op == BinOp::eq || in.op == BinOp::ne) {
        a_.emit(x86::Inst::kIdUcomisd, in_xmm(in.a, XMM15), rm(in.b));
        if (in.op == BinOp::ne) {
            a_.jp(target);
            a_.jne(target);
        } else {
            const Label unordered = a_.newLabel();
            a_.jp(unordered);
            a_.je(target);
            a_.bind(unordered);
        }
        return;
    }
    const bool swap = in.op == BinOp::lt || in.op == BinOp::le;
    a_.emit(x86::Inst::kIdUcomisd, in_xmm(swap ? in.b : in.a, XMM15), rm(swap ? in.a : in.b));
    a_.j(in.op == BinOp::lt || in.op == BinOp::gt ? CondCode::kA : CondCode::kAE, target);
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

void X86Emitter::branch(const Inst& in) {
    if (reg(in.b) >= 0) {
        a_.test(gp(in.b), gp(in.b));
    } else {
        a_.cmp(mem(in.b), 0);
    }
    a_.jnz(label(in.a));
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

// A bounds check (value < 0 reads as huge unsigned), then a jump through a
// table of 32-bit distances from the table, placed after the function.
void X86Emitter::switch_(const Inst& in) {
    const Label dflt = label(in.b);
    if (in.imm == 0) return void(a_.jmp(dflt));
    const x86::Gp v = as64(in.a, RCX);
    a_.cmp(v, Imm(in.imm));
    a_.jae(dflt);
    const Label at = table_for(in);
    a_.lea(x86::r11, x86::ptr(at));
    a_.movsxd(x86::rax, x86::dword_ptr(x86::r11, v, 2));
    a_.add(x86::rax, x86::r11);
    a_.jmp(x86::rax);
}

void X86Emitter::save_area(uint32_t gp_mask, uint32_t fp_mask, bool restore) {
    for (int r = 0; r < 16; ++r) {
        if (gp_mask & (1u << r)) {
            if (restore) {
                a_.mov(x86::gpq(static_cast<uint32_t>(r)), save_slot(0, r));
            } else {
                a_.mov(save_slot(0, r), x86::gpq(static_cast<uint32_t>(r)));
            }
        }
        if (fp_mask & (1u << r)) {
            if (restore) {
                a_.movsd(xmm(r), save_slot(1, r));
            } else {
                a_.movsd(save_slot(1, r), xmm(r));
            }
        }
    }
}

// Save what the callee may clobber and is live after, place the arguments
// (stack ones first, then registers all at once, then loads of spilled
// ones), call through rax (the address: an immediate, a PTR variable read
// before the moves, or this function's entry), keep the result in rax / xmm15 while the
// saved registers come back, then give it to dst.
void X86Emitter::call(const Inst& in) {
    const RegFile& rf = x86_regs();
    const uint32_t save_gp = al_.saves[call_index_ * 2], save_fp = al_.saves[call_index_ * 2 + 1];
    ++call_index_;
    save_area(save_gp, save_fp, false);
    RegMove moves[2][kMaxParams];
    int n_moves[2] = {0, 0}, seen[2] = {0, 0};
    for (int i = 0; i < in.nargs; ++i) {
        const int32_t v = p_.call_args[static_cast<size_t>(in.args + i)];
        const int c = reg_class(type(v));
        const int k = seen[c]++;
        if (k >= rf.cls[c].n_args) {
            const x86::Gp r = in_gp(v, R11);
            a_.mov(x86::qword_ptr(x86::rsp, 8 * (k - rf.cls[c].n_args)), r.r64());
        } else if (reg(v) >= 0) {
            moves[c][n_moves[c]++] = RegMove{static_cast<int8_t>(rf.cls[c].args[k]), static_cast<int8_t>(reg(v))};
        }
    }
    if (in.kind == Kind::call_indirect) a_.emit(x86::Inst::kIdMov, x86::rax, rm(in.a));
    parallel_move(moves[0], n_moves[0], R11, [&](int d, int s) { a_.mov(x86::gpq(static_cast<uint32_t>(d)), x86::gpq(static_cast<uint32_t>(s))); });
    parallel_move(moves[1], n_moves[1], XMM15, [&](int d, int s) { a_.movapd(xmm(d), xmm(s)); });
    seen[0] = seen[1] = 0;
    for (int i = 0; i < in.nargs; ++i) {
        const int32_t v = p_.call_args[static_cast<size_t>(in.args + i)];
        const int c = reg_class(type(v));
        const int k = seen[c]++;
        if (k >= rf.cls[c].n_args || reg(v) >= 0) continue;
        if (c == 0) {
            a_.mov(sized(rf.cls[c].args[k], type(v)), mem(v));
        } else {
            a_.movsd(xmm(rf.cls[c].args[k]), mem(v));
        }
    }
    if (in.kind == Kind::call) a_.mov(x86::rax, Imm(in.imm));
    if (in.kind == Kind::call_self) {
        a_.call(entry_);
    } else {
        a_.call(x86::rax);
    }
    const bool fp_result = in.dst >= 0 && type(in.dst) == Type::f64;
    if (fp_result && (save_fp & 1u)) a_.movapd(xmm(XMM15), x86::xmm0);
    save_area(save_gp, save_fp, true);
    if (in.dst < 0) return;
    if (fp_result) return put_xmm(in.dst, xmm((save_fp & 1u) ? XMM15 : 0));
    put_gp(in.dst, sized(RAX, type(in.dst)));
}

void X86Emitter::ret(const Inst& in, size_t k) {
    if (in.a >= 0) {
        if (type(in.a) == Type::f64) {
            if (reg(in.a) != 0) {
                if (reg(in.a) >= 0) {
                    a_.movapd(x86::xmm0, xmm(reg(in.a)));
                } else {
                    a_.movsd(x86::xmm0, mem(in.a));
                }
            }
        } else {
            a_.emit(x86::Inst::kIdMov, sized(RAX, type(in.a)), rm(in.a));
        }
    }
    if (k + 1 < p_.insts.size()) a_.jmp(exit_);
}

}  // namespace

Error emit_x86(const Program& p, CodeHolder& code) {
    thread_local Allocation al;  // its tables serve the thread's next function too
    if (!allocate(p, x86_regs(), &al)) return kErrorOutOfMemory;
    X86Emitter e(p, al, code);
    return e.run();
}

}  // namespace npk::codegen
