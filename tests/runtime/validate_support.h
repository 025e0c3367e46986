// validate_support.h — the validator's table tests: a row of the table
// and the one function that checks it (tests/runtime/test_validate_*.cpp).
#pragma once

#include <npk/validate.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace npk::test {

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

// Short names for the table columns.
namespace table {
constexpr uint32_t kPriv = NPK_JIT_ALLOW_PRIVILEGED;
constexpr uint32_t kSys = NPK_JIT_ALLOW_SYSCALL;
constexpr uint32_t kTrap = NPK_JIT_ALLOW_TRAP;
constexpr uint32_t kInd = NPK_JIT_ALLOW_INDIRECT;
constexpr uint32_t kSelf = NPK_JIT_SELF_CONTAINED;

constexpr int32_t OK = NPK_OK;
constexpr int32_t UNDECODABLE = NPK_ERR_CODE_UNDECODABLE;
constexpr int32_t TRUNCATED = NPK_ERR_CODE_TRUNCATED;
constexpr int32_t PRIVILEGED = NPK_ERR_CODE_PRIVILEGED;
constexpr int32_t SYSCALL = NPK_ERR_CODE_SYSCALL;
constexpr int32_t TRAP = NPK_ERR_CODE_TRAP;
constexpr int32_t OUTSIDE = NPK_ERR_CODE_OUTSIDE_TARGET;
constexpr int32_t MISALIGNED = NPK_ERR_CODE_MISALIGNED_TARGET;
constexpr int32_t INDIRECT = NPK_ERR_CODE_INDIRECT;
constexpr int32_t FALLS_OFF = NPK_ERR_CODE_FALLS_OFF_END;
}  // namespace table

// Validates the row's bytes with `arch | row.policy` and checks the
// verdict, the finding (rule, offset, text) and the last error.
void check_validate_row(const ValidateRow& row, uint32_t arch);

// Checks every row (quietly), and that the table keeps at least the
// numbers of accepted and rejected rows given.
void check_validate_table(const ValidateRow* rows, size_t n, uint32_t arch, size_t min_accepted,
                          size_t min_rejected);

}  // namespace npk::test
