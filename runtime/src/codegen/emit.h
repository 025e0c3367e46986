// emit.h — the fast tier (private): the recorded program, registers
// allocated by regalloc.cpp in one pass, encoded by asmjit's Assembler
// for the host (emit_x86.cpp, emit_a64.cpp). asmjit appears only in the
// code generator's .cpp files and its private headers.
#pragma once

#include "codegen/lower_asmjit.h"
#include "codegen/program.h"

#include <asmjit/core.h>

namespace npk::codegen {

// Encodes `p` as one function into `code` (initialised for the
// emitter's architecture). Returns asmjit's first error, or
// kErrorOutOfMemory when the allocator's tables could not grow.
asmjit::Error emit_x86(const Program& p, asmjit::CodeHolder& code);
asmjit::Error emit_a64(const Program& p, asmjit::CodeHolder& code);

}  // namespace npk::codegen
