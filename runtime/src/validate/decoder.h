// decoder.h — the one interface the validator's rules see of a decoder
// (private). Each backend (Zydis for x86-64, Capstone for AArch64) turns
// one instruction into the few facts the rules need, so the rules
// (rules.cpp) are written once for both architectures.
//
// A table of function pointers rather than a class with virtual
// functions: libnpkjit links no C++ runtime (no operator delete for a
// virtual destructor, no __cxa_pure_virtual).
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk::validate {

enum class Arch : uint8_t { x86_64, aarch64 };

// How an instruction passes control on.
enum class Flow : uint8_t {
    next,           // to the following instruction only
    jump,           // unconditionally to its direct target
    cond_jump,      // to its direct target or the next instruction
    call,           // to its direct target, returning to the next one
    ret,            // back to the caller (wherever the stack says)
    indirect_jump,  // unconditionally, to a computed address
    indirect_call,  // to a computed address, returning to the next one
};

// Which of the instruction-class rules the instruction falls under.
enum class Danger : uint8_t { none, privileged, syscall, trap };

struct Insn {
    uint32_t length = 0;
    Flow flow = Flow::next;
    Danger danger = Danger::none;
    bool has_target = false;  // a direct (pc-relative) branch target
    uint64_t target = 0;      // absolute, for the code at the given address
};

enum class Decoded : uint8_t {
    ok,
    invalid,    // the bytes are no instruction
    truncated,  // they begin one that needs more bytes than are left
};

struct Backend {
    const char* name;  // "x86-64", "aarch64": for messages
    // Prepares `state` (kStateSize bytes, aligned for any type); false if
    // the library could not allocate what it needs.
    bool (*open)(void* state);
    void (*close)(void* state);
    // Decodes the instruction at `p` (`avail` bytes readable) as if it
    // were at `address`.
    Decoded (*decode)(void* state, const uint8_t* p, size_t avail, uint64_t address, Insn* out);
    // Writes the instruction at `p` as text, NUL-terminated, into
    // buf[cap]; only called where decode said ok.
    void (*format)(void* state, const uint8_t* p, size_t avail, uint64_t address, char* buf,
                   size_t cap);
};

constexpr size_t kStateSize = 1024;

const Backend& x86_64_backend();
const Backend& aarch64_backend();

}  // namespace npk::validate
