// rules.h — the validator's rules over the decoder interface (private).
#pragma once

#include <npk/validate.h>

#include "validate/decoder.h"

#include <cstddef>
#include <cstdint>

namespace npk::validate {

struct Request {
    Arch arch = Arch::x86_64;
    const uint8_t* code = nullptr;
    size_t size = 0;
    // The address the code will run at: branch targets are computed for it.
    uint64_t address = 0;
    uint32_t policy = 0;
    // Whether `address` is the entry of a function the runtime knows (a
    // direct branch may leave the code for it). Called without any lock held.
    bool (*known_entry)(uint64_t address) = nullptr;
};

// Applies the rules of npk/validate.h. Returns NPK_OK, or the
// NPK_ERR_CODE_* of the first finding (described in *out), or
// NPK_ERR_OUT_OF_MEMORY when the decoder or the boundary map could not be
// had (*out then says so). The arguments are assumed checked.
int32_t check(const Request& r, npk_jit_finding* out);

}  // namespace npk::validate
