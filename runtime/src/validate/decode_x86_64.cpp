// decode_x86_64.cpp — the validator's x86-64 backend, on Zydis 4.
//
// Zydis says precisely what the rules ask: ZYDIS_ATTRIB_IS_PRIVILEGED
// for the CPL-0 instructions, the meta category (SYSCALL, INTERRUPT, IO,
// SYSTEM, ...), the branch type (near / far) and which immediate is
// relative. What depends on IOPL or on the OS rather than on the CPL
// (in/out, cli/sti, segment loads) is added here by category or mnemonic.
#include "validate/decoder.h"

#include <Zydis/Zydis.h>

#include <new>

namespace npk::validate {
namespace {

struct State {
    ZydisDecoder decoder;
    ZydisFormatter formatter;
};
static_assert(sizeof(State) <= kStateSize, "kStateSize too small for the Zydis state");

State& as_state(void* p) { return *static_cast<State*>(p); }

bool open(void* p) {
    State* s = new (p) State;
    return ZYAN_SUCCESS(ZydisDecoderInit(&s->decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) &&
           ZYAN_SUCCESS(ZydisFormatterInit(&s->formatter, ZYDIS_FORMATTER_STYLE_INTEL));
}

void close(void*) {}

bool writes_segment_register(const ZydisDecodedInstruction& in, const ZydisDecodedOperand* ops) {
    for (uint8_t i = 0; i < in.operand_count; ++i) {
        const ZydisDecodedOperand& op = ops[i];
        if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
            ZydisRegisterGetClass(op.reg.value) == ZYDIS_REGCLASS_SEGMENT) {
            return true;
        }
    }
    return false;
}

Danger danger_of(const ZydisDecodedInstruction& in, const ZydisDecodedOperand* ops) {
    switch (in.mnemonic) {
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2:
    case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INT1:
    // popf loads the whole flags word: it can set TF (a SIGTRAP after the
    // next instruction) and AC (alignment checks); iret is privileged.
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD:
    case ZYDIS_MNEMONIC_POPFQ:
        return Danger::trap;
    case ZYDIS_MNEMONIC_CLI:
    case ZYDIS_MNEMONIC_STI:
    // Not CPL 0, but they change what the whole thread relies on: its TLS
    // base, its protection keys (which may guard W^X itself).
    case ZYDIS_MNEMONIC_WRFSBASE:
    case ZYDIS_MNEMONIC_WRGSBASE:
    case ZYDIS_MNEMONIC_WRPKRU:
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ:
        return Danger::privileged;
    default:
        break;
    }
    if (in.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) return Danger::privileged;
    switch (in.meta.category) {
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_INTERRUPT:  // int n, into (int3 and int1 are traps, above)
        return Danger::syscall;
    case ZYDIS_CATEGORY_SYSTEM:
        // rdtsc and rdtscp are the only members ring 3 uses as a rule;
        // the rest (sldt, smsw, vmmcall, getsec, rdpmc, ...) are system.
        if (in.mnemonic == ZYDIS_MNEMONIC_RDTSC || in.mnemonic == ZYDIS_MNEMONIC_RDTSCP) return Danger::none;
        return Danger::privileged;
    case ZYDIS_CATEGORY_SYSRET:
    case ZYDIS_CATEGORY_IO:
    case ZYDIS_CATEGORY_IOSTRINGOP:
    case ZYDIS_CATEGORY_VTX:
    case ZYDIS_CATEGORY_SGX:
    case ZYDIS_CATEGORY_UINTR:
        return Danger::privileged;
    default:
        break;
    }
    if (in.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return Danger::privileged;
    if (writes_segment_register(in, ops)) return Danger::privileged;
    return Danger::none;
}

// Flow and target of a branch; `ops[0]` is its destination.
void flow_of(const ZydisDecodedInstruction& in, const ZydisDecodedOperand* ops, uint64_t address, Insn* out) {
    // Zydis files xend and xabort as branches (their target is implicit).
    // They go on to the next instruction, or abort the transaction: to the
    // fallback of the outermost xbegin, a direct target rule 5 checks when
    // that xbegin is in the code (npk/validate.h, rule 5).
    if (in.mnemonic == ZYDIS_MNEMONIC_XEND || in.mnemonic == ZYDIS_MNEMONIC_XABORT) {
        out->flow = Flow::next;
        return;
    }
    bool conditional = false;
    bool is_call = false;
    switch (in.meta.category) {
    case ZYDIS_CATEGORY_RET:
        out->flow = Flow::ret;  // iret and far ret are refused as privileged
        return;
    case ZYDIS_CATEGORY_CALL: is_call = true; break;
    case ZYDIS_CATEGORY_UNCOND_BR: break;
    case ZYDIS_CATEGORY_COND_BR: conditional = true; break;  // jcc, loop*, jrcxz, xbegin
    default: out->flow = Flow::next; return;
    }
    const bool direct = in.operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                        ops[0].imm.is_relative;
    if (direct) {
        ZyanU64 target = 0;
        if (ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[0], address, &target))) {
            out->has_target = true;
            out->target = target;
        }
        out->flow = is_call ? Flow::call : conditional ? Flow::cond_jump : Flow::jump;
    } else {
        // A conditional branch is never indirect on x86-64; far pointers
        // (ptr16:32) are refused as privileged and counted indirect here.
        out->flow = is_call ? Flow::indirect_call : Flow::indirect_jump;
    }
}

// A relative branch with an operand-size prefix (66 e9 / 66 eb / 66 74 ...)
// means two things: Intel CPUs ignore the prefix (rel32 or rel8, full
// rip), AMD CPUs honour it (rel16, rip cut to 16 bits), so even its length
// differs. No single reading can be checked; it counts as undecodable.
bool vendor_dependent(const ZydisDecodedInstruction& in) {
    return (in.attributes & ZYDIS_ATTRIB_IS_RELATIVE) && (in.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE) &&
           in.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE;
}

Decoded decode(void* p, const uint8_t* bytes, size_t avail, uint64_t address, Insn* out) {
    State& s = as_state(p);
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    const ZyanStatus st = ZydisDecoderDecodeFull(&s.decoder, bytes, avail, &in, ops);
    if (st == ZYDIS_STATUS_NO_MORE_DATA) return Decoded::truncated;
    if (!ZYAN_SUCCESS(st) || vendor_dependent(in)) return Decoded::invalid;
    *out = Insn{};
    out->length = in.length;
    out->danger = danger_of(in, ops);
    flow_of(in, ops, address, out);
    return Decoded::ok;
}

void format(void* p, const uint8_t* bytes, size_t avail, uint64_t address, char* buf, size_t cap) {
    State& s = as_state(p);
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    buf[0] = '\0';
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&s.decoder, bytes, avail, &in, ops))) return;
    if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&s.formatter, &in, ops, in.operand_count_visible, buf,
                                                      cap, address, nullptr))) {
        buf[0] = '\0';
    }
}

constexpr Backend kBackend = {"x86-64", open, close, decode, format};

}  // namespace

const Backend& x86_64_backend() { return kBackend; }

}  // namespace npk::validate
