// decode_aarch64.cpp — the validator's AArch64 backend, on Capstone 4.
//
// Capstone's groups are too coarse for the rules: it marks every msr/mrs
// "privilege" (tpidr_el0 as much as sctlr_el1), gives hvc, smc and brk no
// group at all, and puts blr in "jump". So instructions are classified by
// id, system registers by their encoding, and the cache maintenance
// operations by the sys operand.
#include "validate/decoder.h"

#include <capstone/capstone.h>

#include <cstdio>
#include <cstring>

namespace npk::validate {
namespace {

struct State {
    csh handle;
    cs_insn* insn;  // one instruction with its detail, reused
};
static_assert(sizeof(State) <= kStateSize, "kStateSize too small for the Capstone state");

State& as_state(void* p) { return *static_cast<State*>(p); }

bool open(void* p) {
    State& s = as_state(p);
    s.handle = 0;
    s.insn = nullptr;
    if (cs_open(CS_ARCH_ARM64, CS_MODE_LITTLE_ENDIAN, &s.handle) != CS_ERR_OK) return false;
    if (cs_option(s.handle, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
        cs_close(&s.handle);
        return false;
    }
    s.insn = cs_malloc(s.handle);
    if (s.insn == nullptr) {
        cs_close(&s.handle);
        return false;
    }
    return true;
}

void close(void* p) {
    State& s = as_state(p);
    if (s.insn != nullptr) cs_free(s.insn, 1);
    cs_close(&s.handle);
}

// A system register as msr/mrs encode it: op0:op1:CRn:CRm:op2.
constexpr unsigned sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2) {
    return op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;
}
constexpr unsigned kNzcv = sysreg(3, 3, 4, 2, 0);
constexpr unsigned kFpcr = sysreg(3, 3, 4, 4, 0);
constexpr unsigned kFpsr = sysreg(3, 3, 4, 4, 1);
constexpr unsigned kTpidrEl0 = sysreg(3, 3, 13, 0, 2);
constexpr unsigned kTpidrroEl0 = sysreg(3, 3, 13, 0, 3);
constexpr unsigned kCtrEl0 = sysreg(3, 3, 0, 0, 1);
constexpr unsigned kDczidEl0 = sysreg(3, 3, 0, 0, 7);
constexpr unsigned kCntfrqEl0 = sysreg(3, 3, 14, 0, 0);
constexpr unsigned kCntvctEl0 = sysreg(3, 3, 14, 0, 2);
static_assert(kTpidrEl0 == 0xde82 && kCtrEl0 == ARM64_SYSREG_CTR_EL0 && kCntvctEl0 == ARM64_SYSREG_CNTVCT_EL0,
              "system register encoding as Capstone reports it");

// The registers Linux lets EL0 write, and those it also lets EL0 read.
bool el0_writable(unsigned reg) { return reg == kNzcv || reg == kFpcr || reg == kFpsr || reg == kTpidrEl0; }
bool el0_readable(unsigned reg) {
    return el0_writable(reg) || reg == kTpidrroEl0 || reg == kCtrEl0 || reg == kDczidEl0 || reg == kCntfrqEl0 ||
           reg == kCntvctEl0;
}

// Capstone keeps a system register's encoding in the operand's `reg`,
// an enum it does not fit: read the bits, not the enum.
unsigned sysreg_of(const cs_arm64_op& op) {
    unsigned v;
    static_assert(sizeof v == sizeof op.reg, "arm64_reg is an int-sized enum");
    std::memcpy(&v, &op.reg, sizeof v);
    return v;
}

const cs_arm64_op* find_operand(const cs_arm64& d, arm64_op_type type) {
    for (uint8_t i = 0; i < d.op_count; ++i) {
        if (d.operands[i].type == type) return &d.operands[i];
    }
    return nullptr;
}

Danger danger_of(const cs_insn& in) {
    const cs_arm64& d = in.detail->arm64;
    switch (in.id) {
    case ARM64_INS_SVC:
    case ARM64_INS_HVC:
    case ARM64_INS_SMC:
        return Danger::syscall;
    case ARM64_INS_BRK:
    case ARM64_INS_HLT:
        return Danger::trap;
    case ARM64_INS_ERET:
    case ARM64_INS_DRPS:
    case ARM64_INS_DCPS1:
    case ARM64_INS_DCPS2:
    case ARM64_INS_DCPS3:
    case ARM64_INS_WFI:
    case ARM64_INS_SYS:
    case ARM64_INS_SYSL:
    case ARM64_INS_AT:
    case ARM64_INS_TLBI:
        return Danger::privileged;
    case ARM64_INS_MRS: {
        const cs_arm64_op* r = find_operand(d, ARM64_OP_REG_MRS);
        return r != nullptr && el0_readable(sysreg_of(*r)) ? Danger::none : Danger::privileged;
    }
    case ARM64_INS_MSR: {
        // msr <pstate field>, #imm has a PSTATE operand instead: refused.
        const cs_arm64_op* r = find_operand(d, ARM64_OP_REG_MSR);
        return r != nullptr && el0_writable(sysreg_of(*r)) ? Danger::none : Danger::privileged;
    }
    case ARM64_INS_DC: {
        const cs_arm64_op* op = find_operand(d, ARM64_OP_SYS);
        const bool el0 = op != nullptr && (op->sys == ARM64_DC_ZVA || op->sys == ARM64_DC_CVAC ||
                                           op->sys == ARM64_DC_CVAU || op->sys == ARM64_DC_CIVAC);
        return el0 ? Danger::none : Danger::privileged;
    }
    case ARM64_INS_IC: {
        const cs_arm64_op* op = find_operand(d, ARM64_OP_SYS);
        return op != nullptr && op->sys == ARM64_IC_IVAU ? Danger::none : Danger::privileged;
    }
    default:
        return Danger::none;
    }
}

// The direct target: the last immediate of b, bl, b.cond, cbz, tbz, ...
void set_target(const cs_arm64& d, Insn* out) {
    for (uint8_t i = d.op_count; i-- > 0;) {
        if (d.operands[i].type == ARM64_OP_IMM) {
            out->has_target = true;
            out->target = static_cast<uint64_t>(d.operands[i].imm);
            return;
        }
    }
}

void flow_of(const cs_insn& in, Insn* out) {
    const cs_arm64& d = in.detail->arm64;
    switch (in.id) {
    case ARM64_INS_RET:
        // `ret` is `ret x30`; through another register it is a computed jump.
        out->flow = d.op_count == 0 || (d.operands[0].type == ARM64_OP_REG && d.operands[0].reg == ARM64_REG_X30)
                        ? Flow::ret
                        : Flow::indirect_jump;
        return;
    case ARM64_INS_BR: out->flow = Flow::indirect_jump; return;
    case ARM64_INS_BLR: out->flow = Flow::indirect_call; return;
    case ARM64_INS_BL: out->flow = Flow::call; break;
    case ARM64_INS_B:
        // b has no condition; b.al and b.nv branch always, too.
        out->flow = d.cc == ARM64_CC_INVALID || d.cc == ARM64_CC_AL || d.cc == ARM64_CC_NV ? Flow::jump
                                                                                              : Flow::cond_jump;
        break;
    case ARM64_INS_CBZ:
    case ARM64_INS_CBNZ:
    case ARM64_INS_TBZ:
    case ARM64_INS_TBNZ:
        out->flow = Flow::cond_jump;
        break;
    default: out->flow = Flow::next; return;
    }
    set_target(d, out);
}

Decoded decode(void* p, const uint8_t* bytes, size_t avail, uint64_t address, Insn* out) {
    State& s = as_state(p);
    if (avail < 4) return Decoded::truncated;
    const uint8_t* code = bytes;
    size_t size = 4;
    uint64_t addr = address;
    if (!cs_disasm_iter(s.handle, &code, &size, &addr, s.insn)) return Decoded::invalid;
    *out = Insn{};
    out->length = s.insn->size;
    out->danger = danger_of(*s.insn);
    flow_of(*s.insn, out);
    return Decoded::ok;
}

void format(void* p, const uint8_t* bytes, size_t avail, uint64_t address, char* buf, size_t cap) {
    State& s = as_state(p);
    buf[0] = '\0';
    const uint8_t* code = bytes;
    size_t size = avail < 4 ? avail : 4;
    uint64_t addr = address;
    if (!cs_disasm_iter(s.handle, &code, &size, &addr, s.insn)) return;
    if (s.insn->op_str[0] != '\0') {
        std::snprintf(buf, cap, "%s %s", s.insn->mnemonic, s.insn->op_str);
    } else {
        std::snprintf(buf, cap, "%s", s.insn->mnemonic);
    }
}

constexpr Backend kBackend = {"aarch64", open, close, decode, format};

}  // namespace

const Backend& aarch64_backend() { return kBackend; }

}  // namespace npk::validate
