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
// for NaN and out-of-range values (fixed up after the fact).//
// The emitter class is in emit_x86.h; this file has the frame, control
// flow and calls, emit_x86_ops.cpp the arithmetic, conversions and memory.
#include "codegen/emit_x86.h"


namespace npk::codegen {
namespace {

using namespace x86emit;  // the emitter, the register names, asmjit

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

}  // namespace

namespace x86emit {

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
    ArgMoves moves;
    struct Late {
        int32_t v, off;
    } late[kMaxParams];
    int n_late = 0;
    by_class(p_, p_.params.data(), p_.params.size(), [&](int32_t v, int c, int k) {
        if (al_.end[static_cast<size_t>(v)] < 0) return;  // never used
        if (k >= rf.cls[c].n_args) {  // the stack, above the return address and rbp
            const int32_t off = 16 + 8 * (k - rf.cls[c].n_args);
            if (reg(v) >= 0) {
                late[n_late++] = Late{v, off};
            } else {
                a_.mov(x86::rax, x86::qword_ptr(x86::rbp, off));
                a_.mov(mem(v), sized(RAX, type(v)));
            }
            return;
        }
        const int src = rf.cls[c].args[k];
        if (reg(v) >= 0) {
            moves.add(c, reg(v), src);
        } else if (c == 0) {
            a_.mov(mem(v), sized(src, type(v)));
        } else {
            a_.movsd(mem(v), xmm(src));
        }
    });
    move_all(moves);
    for (int i = 0; i < n_late; ++i) a_.mov(gp(late[i].v), x86::ptr(x86::rbp, late[i].off, type(late[i].v) == Type::i32 ? 4 : 8));
}

void X86Emitter::move_all(ArgMoves& moves) {
    moves.run(
        R11, XMM15, [&](int d, int s) { a_.mov(x86::gpq(static_cast<uint32_t>(d)), x86::gpq(static_cast<uint32_t>(s))); },
        [&](int d, int s) { a_.movapd(xmm(d), xmm(s)); });
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

void X86Emitter::branch(const Inst& in) {
    if (reg(in.b) >= 0) {
        a_.test(gp(in.b), gp(in.b));
    } else {
        a_.cmp(mem(in.b), 0);
    }
    a_.jnz(label(in.a));
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
    for_each_reg(gp_mask, fp_mask, [&](int c, int r) {
        const x86::Mem m = save_slot(c, r);
        if (c == 0) {
            restore ? a_.mov(x86::gpq(static_cast<uint32_t>(r)), m) : a_.mov(m, x86::gpq(static_cast<uint32_t>(r)));
        } else {
            restore ? a_.movsd(xmm(r), m) : a_.movsd(m, xmm(r));
        }
    });
}

// Save what the callee may clobber and is live after, place the arguments
// (stack ones first, then registers all at once, then loads of spilled
// ones), call through rax (the address: an immediate, a PTR variable read
// before the moves, or this function's entry), keep the result in rax / xmm15 while the
// saved registers come back, then give it to dst.
void X86Emitter::call(const Inst& in) {
    const RegFile& rf = x86_regs();
    const auto [save_gp, save_fp] = next_saves();
    save_area(save_gp, save_fp, false);
    ArgMoves moves;
    const int32_t* args = p_.call_args.data() + in.args;
    by_class(p_, args, in.nargs, [&](int32_t v, int c, int k) {
        if (k >= rf.cls[c].n_args) {
            const x86::Gp r = in_gp(v, R11);
            a_.mov(x86::qword_ptr(x86::rsp, 8 * (k - rf.cls[c].n_args)), r.r64());
        } else if (reg(v) >= 0) {
            moves.add(c, rf.cls[c].args[k], reg(v));
        }
    });
    if (in.kind == Kind::call_indirect) a_.emit(x86::Inst::kIdMov, x86::rax, rm(in.a));
    move_all(moves);
    by_class(p_, args, in.nargs, [&](int32_t v, int c, int k) {
        if (k >= rf.cls[c].n_args || reg(v) >= 0) return;
        if (c == 0) {
            a_.mov(sized(rf.cls[c].args[k], type(v)), mem(v));
        } else {
            a_.movsd(xmm(rf.cls[c].args[k]), mem(v));
        }
    });
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

}  // namespace x86emit

Error emit_x86(const Program& p, CodeHolder& code) {
    thread_local Allocation al;  // its tables serve the thread's next function too
    if (!allocate(p, x86_regs(), &al)) return kErrorOutOfMemory;
    X86Emitter e(p, al, code);
    return e.run();
}

}  // namespace npk::codegen
