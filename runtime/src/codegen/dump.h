// dump.h — seeing what was built (private): a builder's program as text,
// and machine code as a listing, for NPK_JIT_DUMP and npk_jit_disassemble.
//
// Both read only what every back end leaves behind: the recorded program
// (program.h) and the final bytes at their final address. The listing is
// decoded by the validator's decoders (validate/decoder.h: Zydis on
// x86-64, Capstone on AArch64), so no code generator's internals are in
// it, whichever produced the bytes.
#pragma once

#include "codegen/program.h"
#include "codegen/vec.h"

#include <cstddef>
#include <cstdint>

namespace npk::codegen {

// Text that grows; on a failed allocation it stops growing and says so
// (ok() false), so a caller reports once instead of checking each line.
class Text {
public:
    void add(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    bool ok() const { return ok_; }
    size_t size() const { return buf_.empty() ? 0 : buf_.size() - 1; }
    const char* c_str() const { return buf_.empty() ? "" : buf_.data(); }

private:
    Vec<char> buf_;  // NUL-terminated once anything was added
    bool ok_ = true;
};

// The program, one line per variable kind and one per instruction,
// numbered as the builder counts its calls ("  12  v3 = add v1, v2").
void program_text(const Program& p, Text& out);

// The listing of the `len` bytes at `code` (their address is where they
// run): a line per instruction with its address, bytes and text. Bytes
// that do not decode are shown as ".byte" lines.
void code_listing(const uint8_t* code, size_t len, Text& out);

// What NPK_JIT_DUMP asks for (config.h kDumpIr | kDumpAsm; 0: nothing).
size_t dump_wanted();

// At build time, before the builder goes: the program's text into `ir`
// when NPK_JIT_DUMP asks for it (else nothing).
void dump_program(const Program& p, Text& ir);

// Once the function is placed (its final bytes at their final address),
// its dump, written to NPK_JIT_DUMP_FILE or stderr: a header (name or
// nullptr for the default one, signature, address, size), then `ir` and
// the listing, as NPK_JIT_DUMP asks. Nothing when it asks for nothing.
void dump_function(const Text& ir, const char* name, Sig sig, const void* code, size_t len);

}  // namespace npk::codegen
