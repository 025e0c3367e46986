// elf_image.h — the in-memory ELF object that tells gdb about one
// allocation of built code (private to tools/).
#pragma once

#include "tools/tools.h"

#include <cstddef>
#include <cstdint>

namespace npk::tools {

// A relocatable ELF64 object for the host (little-endian; e_machine from
// arch/) with sections .text (NOBITS: no bytes, only the address `base`
// and size `span`: gdb reads the code from the process), .symtab,
// .strtab and .shstrtab: a FILE symbol "npkjit", then one global FUNC
// symbol per function, at its offset in .text (so at its absolute
// address once .text is at `base`) with its size. malloc'd; *size gets
// its length. nullptr when memory runs out.
unsigned char* elf_image(uintptr_t base, size_t span, const CodeSpan* fns, size_t n, size_t* size);

}  // namespace npk::tools
