// errors.h — the one place where errors of the heap are made (private).
//
// Every NULL / -1 return of the C ABI goes through fail(): it sets the
// thread's last error, counts the rejection in the stats and writes the
// one stderr line (unless quiet). A breakpoint on npk::wildx::fail catches
// them all. Error codes are the NPK_WILDX_ERR_* values of <npk/wildx.h>;
// their texts live in one table in errors.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk::wildx {

// The operation an error or audit line is about; its name opens the line.
enum class Op : uint8_t { alloc, seal, free, install, call, code_hash, verify, validate };

// Makes an error: last error = code, total_rejections += 1, and one line
//     wildx: <op>(<subject>) rejected: <error text>[ (<detail>)]
// on stderr unless quiet (audit mode prints it even then). `subject` is the
// requested size for Op::alloc and the pointer otherwise. `os_errno`, if
// not 0, is appended to the detail as strerror text. Returns -1.
//
// For Op::call the line reads
//     wildx: call(<page>) refused: page is not executable (state: <detail>)
// and is printed even when quiet: the caller aborts right after.
//
// Never call with the registry lock held (it takes that lock to count).
int32_t fail(Op op, uintptr_t subject, int32_t code, const char* detail = nullptr,
             int os_errno = 0);

// One audit line (audit mode only), "wildx: audit " + the formatted text.
void audit_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

int32_t last_error();
const char* error_string(int32_t code);

}  // namespace npk::wildx
