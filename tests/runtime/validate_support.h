// validate_support.h — the validator's table tests: a row of the table
// and the one function that checks it (tests/runtime/test_validate_*.cpp).
#pragma once

#include <npk/validate.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace npk_test {

// One snippet and the verdict expected for it. `hex` is the code as
// tokens: two hex digits are one byte; eight are one AArch64
// instruction word as the manual writes it, stored little-endian.
struct ValidateRow {
    const char* hex;
    const char* assembly;  // what the bytes are, for the reader and the failure message
    uint32_t policy;       // relaxations (the architecture is added by the table)
    int32_t rule;          // NPK_OK when accepted, else the NPK_ERR_CODE_* expected
    size_t offset;         // of the finding
    const char* text;      // how the finding's text begins ("hlt", "(bad)")
};

std::vector<uint8_t> parse_code(const char* hex);

// Validates the row's bytes with `arch | row.policy` and checks the
// verdict, the finding (rule, offset, text) and the last error.
void check_validate_row(const ValidateRow& row, uint32_t arch);

}  // namespace npk_test
