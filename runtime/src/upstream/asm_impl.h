// asm_impl.h — the assembler of runtime/assembler.h (private to upstream/).
//
// An Assembler* handed to the caller is the first member of an AsmImpl,
// which also holds the asmjit encoder every instruction goes through and
// what the finalize passes learn. The flow:
//
//   npk_asm_<insn>() ──▶ one JitIR, its operands checked (operand_roles)
//      │ direct mode                     │ after the first vreg
//      ▼                                 ▼
//   encode(): bytes into `buffer`     regalloc->ir (recorded)
//                                        │ finalize:
//                                        ▼ peephole()  (asm_passes.cpp)
//                                        ▼ allocate()  (asm_regalloc.cpp): physical JitIRs
//                                        ▼ encode() each, with instruction selection
#pragma once
#include <nitpick/runtime/assembler.h>

#include "codegen/program.h"
#include "codegen/vec.h"

#include <asmjit/x86.h>

#include <cstddef>
#include <cstdint>

namespace npk::upstream {

// Opcodes only the allocator makes, after the public ones: a 16-byte
// spill slot of an XMM register, loaded and stored whole.
inline constexpr int kOpMovupsLoad = JIT_OP_NOP + 1;
inline constexpr int kOpMovupsStore = JIT_OP_NOP + 2;

// What an operand field of an instruction is.
enum class Cls : uint8_t { none, gpr, xmm };
enum class Use : uint8_t { none, read, write, read_write };
struct Roles {
    Cls dst_cls, src1_cls, src2_cls;
    Use dst_use;  // src1 and src2 are only ever read
};
Roles operand_roles(int opcode);

// Flags: does `opcode` read them, write all of them (so earlier values
// are dead), or neither? Anything else (a label, a jump, INC/DEC which
// keep CF) is treated as reading them.
enum class Flags : uint8_t { reads, writes, keeps };
Flags flag_effect(const JitIR& op);
// Whether the flags an instruction at `i` leaves are certainly overwritten
// (or the function left) before anything reads them.
bool flags_dead_after(const JitIR* ops, size_t n, size_t i);

bool is_jump(int opcode);  // JMP and the conditional jumps

struct AsmImpl {
    Assembler pub;  // first: Assembler* and AsmImpl* are the same address
    asmjit::CodeHolder code;
    asmjit::x86::Assembler enc;
    asmjit::Label at_zero;     // bound at offset 0: the target of every jump as encoded
    bool encoder_ready = false;
    bool lowered = false;      // finalize has encoded the recorded program
    bool has_sig = false;
    codegen::Sig sig = 0;
    uint8_t ir_label_bound[MAX_LABELS] = {};  // bound by a recorded LABEL
    PeepholeStats peep{};
};

inline AsmImpl* impl(Assembler* a) { return reinterpret_cast<AsmImpl*>(a); }
inline const AsmImpl* impl(const Assembler* a) { return reinterpret_cast<const AsmImpl*>(a); }

// Makes the assembler's first error (sticky): fills error / error_msg and
// reports through fail() under `op`. Later errors are dropped. Returns -1.
int32_t asm_error(AsmImpl* a, const char* op, int32_t code, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));

// The same, for a failure already reported by whoever refused (the heap):
// only the assembler's own record is set.
void asm_error_reported(AsmImpl* a, const char* op, const char* detail);

// Appends bytes to a code buffer; false (nothing appended) without memory.
bool buffer_append(CodeBuffer* buf, const uint8_t* bytes, size_t n);

// Records (vreg mode) or encodes (direct mode) one instruction after
// checking its operands. `op_name` names the C function for messages.
void submit(AsmImpl* a, const char* op_name, const JitIR& op);

// Encodes one instruction with physical registers into the buffer.
// `select`: instruction selection may choose a shorter equivalent (vreg
// mode); `flags_dead`: the flags it leaves are never read (so ADD 1 may
// become INC, which keeps CF). Returns false after an error.
bool encode(AsmImpl* a, const JitIR& op, bool select, bool flags_dead);

// Binds a label at the current end of the buffer, patching its jumps.
void bind_at_end(AsmImpl* a, int label, const char* op_name);

// The finalize passes over regalloc->ir.
void peephole(AsmImpl* a);
// Allocates registers and rewrites the program with physical registers
// only (spill loads and stores and the frame included) into `out`.
// Returns false after an error.
bool allocate(AsmImpl* a, codegen::Vec<JitIR>& out);

}  // namespace npk::upstream
