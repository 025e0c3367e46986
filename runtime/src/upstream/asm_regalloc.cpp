// asm_regalloc.cpp — registers for virtual registers: linear scan over
// live ranges, spilling to frame slots, then the program rewritten with
// physical registers only.
//
// A range is [first mention, last mention] in program order, stretched
// over every backward jump whose loop it overlaps (a value live anywhere
// in a loop is kept for the whole loop), so the order can be scanned
// once. Physical registers the program names itself are never handed
// out. A range that spans a call gets a callee-saved register or a slot.
// A spilled value lives in its slot for its whole range: each use loads
// it into one of two scratch registers taken out of the pool, each
// write stores it back. Slots and saved callee-saved registers go below
// the caller's own locals in the frame of npk_asm_prologue, or in a
// frame the allocator adds when there is none.
#include "upstream/asm_impl.h"

#include <npk/status.h>

#include <cstdlib>
#include <new>

namespace npk::upstream {
namespace {

using codegen::Vec;

struct Range {
    int32_t vreg = 0;
    int32_t start = INT32_MAX;
    int32_t end = -1;
    bool xmm = false;
    bool crosses_call = false;
    int32_t phys = -1;  // AsmRegister, or -1: in a slot
    int32_t slot = -1;
};

constexpr int32_t kCalleeSaved[] = {REG_RBX, REG_R12, REG_R13, REG_R14, REG_R15};
bool callee_saved(int32_t r) {
    for (int32_t c : kCalleeSaved) {
        if (c == r) return true;
    }
    return false;
}

struct Plan {
    Vec<Range> ranges;
    int32_t range_of[VREG_MAX];  // vreg -> index in ranges, or -1
    uint16_t reserved_gpr = 0, reserved_xmm = 0;
    int32_t scratch_gpr[2] = {-1, -1}, scratch_xmm[2] = {-1, -1};
    int32_t slots = 0;
    int32_t csr[5] = {};
    int32_t ncsr = 0;
    int32_t user_base = 0;  // the caller's frame, rounded to 16
    bool user_frame = false;
    bool has_internal_call = false;
};

void mention(Plan& p, int32_t reg, int32_t at, Cls cls) {
    if (cls == Cls::none) return;
    if (!IS_VREG(reg)) {
        if (cls == Cls::gpr) p.reserved_gpr |= static_cast<uint16_t>(1u << (reg & 15));
        if (cls == Cls::xmm) p.reserved_xmm |= static_cast<uint16_t>(1u << ((reg - REG_XMM0) & 15));
        return;
    }
    int32_t& idx = p.range_of[reg];
    if (idx < 0) {
        Range r;
        r.vreg = reg;
        r.xmm = cls == Cls::xmm;
        if (!p.ranges.push(r)) return;  // checked by the caller through the count
        idx = static_cast<int32_t>(p.ranges.size() - 1);
    }
    Range& r = p.ranges[static_cast<size_t>(idx)];
    if (at < r.start) r.start = at;
    if (at > r.end) r.end = at;
}

// Stretches ranges over loops until nothing changes.
void cover_loops(Plan& p, const JitIR* ops, int32_t n, const int32_t* label_at) {
    for (bool changed = true; changed;) {
        changed = false;
        for (int32_t i = 0; i < n; ++i) {
            if (!is_jump(ops[i].opcode) && ops[i].opcode != JIT_OP_CALL_LABEL) continue;
            const int32_t t = label_at[ops[i].offset];
            if (t < 0 || t > i) continue;  // forward: the range already spans it
            for (Range& r : p.ranges) {
                if (r.end < t || r.start > i) continue;
                if (r.start > t || r.end < i) {
                    r.start = r.start < t ? r.start : t;
                    r.end = r.end > i ? r.end : i;
                    changed = true;
                }
            }
        }
    }
}

bool is_call(int opcode) {
    return opcode == JIT_OP_CALL_REG || opcode == JIT_OP_CALL_LABEL || opcode == JIT_OP_CALL_ABS;
}

// One linear scan of the ranges of one class with `pool` (in order of
// preference). Returns the number of ranges left in slots, or -1 without
// memory.
int32_t scan(Plan& p, bool xmm, const int32_t* pool, int32_t npool) {
    Vec<int32_t> order;
    for (size_t i = 0; i < p.ranges.size(); ++i) {
        Range& r = p.ranges[i];
        if (r.xmm != xmm) continue;
        r.phys = -1;
        r.slot = -1;
        if (!order.push(static_cast<int32_t>(i))) return -1;
    }
    // Insertion sort by start: a few hundred ranges at most.
    for (size_t i = 1; i < order.size(); ++i) {
        for (size_t j = i; j > 0 && p.ranges[static_cast<size_t>(order[j])].start <
                                        p.ranges[static_cast<size_t>(order[j - 1])].start;
             --j) {
            const int32_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
    int32_t active[16];  // ranges holding a register: at most one per register
    int32_t nactive = 0;
    int32_t spilled = 0;
    for (int32_t idx : order) {
        Range& cur = p.ranges[static_cast<size_t>(idx)];
        bool busy[16] = {};
        int32_t keep = 0;
        for (int32_t k = 0; k < nactive; ++k) {  // ranges that ended before `cur` give their register back
            const Range& r = p.ranges[static_cast<size_t>(active[k])];
            if (r.end >= cur.start) {
                active[keep++] = active[k];
                busy[r.phys & 15] = true;
            }
        }
        nactive = keep;
        int32_t pick = -1;
        for (int32_t k = 0; k < npool && pick < 0; ++k) {
            const int32_t reg = pool[k];
            if (busy[reg & 15]) continue;
            if (cur.crosses_call && (xmm || !callee_saved(reg))) continue;
            pick = reg;
        }
        if (pick >= 0) {
            cur.phys = pick;
            active[nactive++] = idx;
            continue;
        }
        // No register free: the range that ends last goes to a slot, `cur`
        // or the live one whose register suits `cur`.
        int32_t victim = -1;
        for (int32_t k = 0; k < nactive; ++k) {
            const Range& r = p.ranges[static_cast<size_t>(active[k])];
            if (cur.crosses_call && (xmm || !callee_saved(r.phys))) continue;
            if (victim < 0 || r.end > p.ranges[static_cast<size_t>(active[victim])].end) victim = k;
        }
        ++spilled;
        if (victim < 0 || p.ranges[static_cast<size_t>(active[victim])].end <= cur.end) continue;  // `cur` spills
        Range& v = p.ranges[static_cast<size_t>(active[victim])];
        cur.phys = v.phys;
        v.phys = -1;
        active[victim] = idx;
    }
    return spilled;
}

constexpr int32_t kGprOrder[] = {REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10,
                                 REG_R11, REG_RAX, REG_RBX, REG_R12, REG_R13, REG_R14, REG_R15};

// The pool of one class: registers the program does not name itself,
// minus the scratch pair when spills need one. Returns its size.
int32_t make_pool(bool xmm, uint16_t reserved, const int32_t* scratch, int32_t* out) {
    int32_t n = 0;
    for (int32_t k = 0; k < (xmm ? 16 : 14); ++k) {
        const int32_t reg = xmm ? REG_XMM0 + k : kGprOrder[k];
        if (reserved & (1u << (reg & 15))) continue;
        if (reg == scratch[0] || reg == scratch[1]) continue;
        out[n++] = reg;
    }
    return n;
}

// Allocates one class; with spills, again with two scratch registers out
// of the pool (the last caller-saved ones free). False: too few registers.
bool assign_class(Plan& p, bool xmm, int32_t* spills) {
    int32_t pool[16];
    int32_t* scratch = xmm ? p.scratch_xmm : p.scratch_gpr;
    const uint16_t reserved = xmm ? p.reserved_xmm : p.reserved_gpr;
    int32_t n = make_pool(xmm, reserved, scratch, pool);
    int32_t s = scan(p, xmm, pool, n);
    if (s <= 0) {
        *spills = s < 0 ? 0 : s;
        return s >= 0;
    }
    int32_t found = 0;
    for (int pass = 0; pass < 2; ++pass) {  // caller-saved ones first: they need no saving
        for (int32_t k = n - 1; k >= 0 && found < 2; --k) {
            const bool csr = !xmm && callee_saved(pool[k]);
            if (csr != (pass == 1) || pool[k] == scratch[0]) continue;
            scratch[found++] = pool[k];
        }
    }
    if (found < 2 || n - 2 < 1) return false;
    n = make_pool(xmm, reserved, scratch, pool);
    s = scan(p, xmm, pool, n);
    *spills = s;
    return s >= 0;
}

JitIR load_slot(bool xmm, int32_t reg, int32_t disp) {
    return xmm ? JitIR{static_cast<JitOpcode>(kOpMovupsLoad), reg, REG_RBP, 0, disp, 0}
               : JitIR{JIT_OP_MOV_LOAD, reg, REG_RBP, 0, disp, 0};
}
JitIR store_slot(bool xmm, int32_t reg, int32_t disp) {
    return xmm ? JitIR{static_cast<JitOpcode>(kOpMovupsStore), 0, REG_RBP, reg, disp, 0}
               : JitIR{JIT_OP_MOV_STORE, 0, REG_RBP, reg, disp, 0};
}

int32_t slot_disp(const Plan& p, int32_t slot) { return -(p.user_base + 16 * (slot + 1)); }
int32_t csr_disp(const Plan& p, int32_t j) { return -(p.user_base + 16 * p.slots + 8 * (j + 1)); }
int32_t frame_size(const Plan& p) { return (p.user_base + 16 * p.slots + 8 * p.ncsr + 15) & ~15; }

bool saves(const Plan& p, Vec<JitIR>& out, bool restore) {
    for (int32_t j = 0; j < p.ncsr; ++j) {
        const JitIR op = restore ? JitIR{JIT_OP_MOV_LOAD, p.csr[j], REG_RBP, 0, csr_disp(p, j), 0}
                                 : JitIR{JIT_OP_MOV_STORE, 0, REG_RBP, p.csr[j], csr_disp(p, j), 0};
        if (!out.push(op)) return false;
    }
    return true;
}

// One instruction with its virtual registers replaced: loads of spilled
// ones it reads before it, stores of those it writes after it. A class
// has at most two distinct virtual registers in one instruction, hence
// two scratch registers.
bool rewrite_op(const Plan& p, JitIR op, Vec<JitIR>& out) {
    const Roles roles = operand_roles(op.opcode);
    int32_t* fields[3] = {&op.dst, &op.src1, &op.src2};
    const Cls cls[3] = {roles.dst_cls, roles.src1_cls, roles.src2_cls};
    const Use use[3] = {roles.dst_use, Use::read, Use::read};
    struct Spilled {
        int32_t vreg = -1, scratch = -1, disp = 0;
        bool xmm = false, read = false, written = false;
    } sp[4];  // per class, up to two
    int32_t nsp = 0;
    for (int f = 0; f < 3; ++f) {
        if (cls[f] == Cls::none || !IS_VREG(*fields[f])) continue;
        const Range& r = p.ranges[static_cast<size_t>(p.range_of[*fields[f]])];
        if (r.phys >= 0) {
            *fields[f] = r.phys;
            continue;
        }
        int32_t k = 0, same_class = 0;
        while (k < nsp && sp[k].vreg != r.vreg) same_class += sp[k++].xmm == r.xmm ? 1 : 0;
        if (k == nsp) {
            const int32_t* scratch = r.xmm ? p.scratch_xmm : p.scratch_gpr;
            sp[nsp++] = Spilled{r.vreg, scratch[same_class], slot_disp(p, r.slot), r.xmm, false, false};
        }
        sp[k].read |= use[f] != Use::write;
        sp[k].written |= use[f] == Use::write || use[f] == Use::read_write;
        *fields[f] = sp[k].scratch;
    }
    for (int32_t k = 0; k < nsp; ++k) {
        if (sp[k].read && !out.push(load_slot(sp[k].xmm, sp[k].scratch, sp[k].disp))) return false;
    }
    if (!out.push(op)) return false;
    for (int32_t k = 0; k < nsp; ++k) {
        if (sp[k].written && !out.push(store_slot(sp[k].xmm, sp[k].scratch, sp[k].disp))) return false;
    }
    return true;
}

bool emit_program(const Plan& p, const JitIR* ops, int32_t n, bool auto_frame, Vec<JitIR>& out) {
    const bool frame = p.slots > 0 || p.ncsr > 0;
    if (auto_frame) {
        if (!out.push(JitIR{JIT_OP_PROLOGUE, 0, 0, 0, 0, frame_size(p)}) || !saves(p, out, false)) return false;
    }
    for (int32_t i = 0; i < n; ++i) {
        JitIR op = ops[i];
        switch (op.opcode) {
            case JIT_OP_NOP: continue;
            case JIT_OP_PROLOGUE:
                if (frame) op.imm64 = frame_size(p);
                if (!out.push(op) || !saves(p, out, false)) return false;
                continue;
            case JIT_OP_EPILOGUE:
                if (!saves(p, out, true) || !out.push(op)) return false;
                continue;
            case JIT_OP_RET:
                if (auto_frame) op.opcode = JIT_OP_EPILOGUE;  // leaves the frame, then returns
                if ((auto_frame && !saves(p, out, true)) || !out.push(op)) return false;
                continue;
            default:
                if (!rewrite_op(p, op, out)) return false;
        }
    }
    return true;
}

void record_state(RegAllocState* ra, const Plan& p, bool auto_frame) {
    ra->range_count = 0;
    for (const Range& r : p.ranges) {
        if (ra->range_count == MAX_LIVE_RANGES) break;
        ra->ranges[ra->range_count++] =
            LiveRange{r.vreg, r.start, r.end, r.phys, r.phys >= 0 ? -1 : -slot_disp(p, r.slot),
                      r.xmm ? REG_CLASS_XMM : REG_CLASS_GPR};
    }
    ra->spill_count = p.slots;
    ra->extra_stack_size = frame_size(p) - p.user_base;
    ra->reserved_gprs = p.reserved_gpr;
    ra->reserved_xmms = p.reserved_xmm;
    ra->auto_frame = auto_frame;
    ra->csr_save_count = static_cast<uint8_t>(p.ncsr);
    for (int32_t j = 0; j < p.ncsr; ++j) ra->csr_save_regs[j] = p.csr[j];
}

bool plan_ranges(Plan& p, const JitIR* ops, int32_t n, const AsmImpl* a) {
    for (int32_t& r : p.range_of) r = -1;
    int32_t label_at[MAX_LABELS];
    for (int32_t k = 0; k < MAX_LABELS; ++k) label_at[k] = a->pub.labels[k].position >= 0 ? 0 : -1;
    for (int32_t i = 0; i < n; ++i) {
        const JitIR& op = ops[i];
        const Roles r = operand_roles(op.opcode);
        mention(p, op.dst, i, r.dst_cls);
        mention(p, op.src1, i, r.src1_cls);
        mention(p, op.src2, i, r.src2_cls);
        if (op.opcode == JIT_OP_LABEL) label_at[op.offset] = i;
        if (op.opcode == JIT_OP_CALL_ABS) p.reserved_gpr |= 1u << REG_R11;  // it loads the address there
        if (op.opcode == JIT_OP_CALL_LABEL) p.has_internal_call = true;
        if (op.opcode == JIT_OP_PROLOGUE) {
            p.user_frame = true;
            const int32_t b = static_cast<int32_t>((op.imm64 + 15) & ~int64_t{15});
            if (b > p.user_base) p.user_base = b;
        }
    }
    p.reserved_gpr |= (1u << REG_RSP) | (1u << REG_RBP);
    cover_loops(p, ops, n, label_at);
    for (Range& r : p.ranges) {
        for (int32_t i = r.start + 1; i < r.end && !r.crosses_call; ++i) r.crosses_call = is_call(ops[i].opcode);
    }
    return true;
}

}  // namespace

bool allocate(AsmImpl* a, Vec<JitIR>& out) {
    constexpr const char* op = "npk_asm_finalize";
    RegAllocState* ra = a->pub.regalloc;
    const JitIR* ops = ra->ir;
    const int32_t n = ra->ir_count;
    auto* p = static_cast<Plan*>(std::calloc(1, sizeof(Plan)));
    if (p == nullptr) return asm_error(a, op, NPK_ERR_OUT_OF_MEMORY, "no memory for the allocator") == 0;
    new (p) Plan;
    bool ok = plan_ranges(*p, ops, n, a);
    int32_t gpr_spills = 0, xmm_spills = 0;
    if (ok && (!assign_class(*p, false, &gpr_spills) || !assign_class(*p, true, &xmm_spills))) {
        ok = false;
        asm_error(a, op, NPK_ERR_JIT_CODEGEN, "too few registers left for the virtual ones (the code names %d itself)",
                  __builtin_popcount(p->reserved_gpr) + __builtin_popcount(p->reserved_xmm));
    }
    for (size_t i = 0; ok && i < p->ranges.size(); ++i) {
        Range& r = p->ranges[i];
        if (r.phys >= 0) {
            bool have = false;
            for (int32_t j = 0; j < p->ncsr; ++j) have |= p->csr[j] == r.phys;
            if (callee_saved(r.phys) && !have) p->csr[p->ncsr++] = r.phys;
            continue;
        }
        if (p->slots == MAX_SPILL_SLOTS) {
            ok = false;
            asm_error(a, op, NPK_ERR_JIT_CODEGEN, "more than %d values spilled", MAX_SPILL_SLOTS);
            break;
        }
        r.slot = p->slots++;
    }
    for (int32_t k = 0; ok && k < 2; ++k) {  // callee-saved scratch registers are saved too
        const int32_t s = p->scratch_gpr[k];
        bool have = false;
        for (int32_t j = 0; j < p->ncsr; ++j) have |= p->csr[j] == s;
        if (s >= 0 && callee_saved(s) && !have) p->csr[p->ncsr++] = s;
    }
    const bool need_frame = p->slots > 0 || p->ncsr > 0;
    const bool auto_frame = ok && need_frame && !p->user_frame;
    if (auto_frame && p->has_internal_call) {
        ok = false;
        asm_error(a, op, NPK_ERR_JIT_CODEGEN,
                  "the virtual registers need a frame, and code with npk_asm_call_label needs npk_asm_prologue to "
                  "say where it is");
    }
    if (ok && !emit_program(*p, ops, n, auto_frame, out)) {
        ok = false;
        asm_error(a, op, NPK_ERR_OUT_OF_MEMORY, "no memory for the allocated program");
    }
    if (ok) record_state(ra, *p, auto_frame);
    p->~Plan();
    std::free(p);
    return ok;
}

}  // namespace npk::upstream
