// errors.h — the one place where the runtime's errors are made (private).
//
// Every NULL / -1 return of the C ABI, whatever the facility, goes through
// fail(): it sets the thread's last status and message, counts the
// rejection for its facility and writes the one stderr line (unless
// quiet). A breakpoint on npk::fail catches them all. Codes are the
// NPK_ERR_* values of <npk/status.h>; their texts live in one table in
// errors.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npk {

// What a failed operation was about: a pointer (printed 0x…), a size
// (printed in decimal), or nothing.
struct Subject {
    enum class Kind : uint8_t { none, pointer, size };
    Kind kind = Kind::none;
    uintptr_t value = 0;

    static constexpr Subject none() { return {}; }
    static constexpr Subject address(uintptr_t a) { return {Kind::pointer, a}; }
    static Subject pointer(const void* p) { return address(reinterpret_cast<uintptr_t>(p)); }
    static constexpr Subject size(size_t n) { return {Kind::size, n}; }
};

// Makes an error: last status = code, last message =
//     <op>(<subject>) rejected: <status text>[ (<detail>[: <strerror>])]
// (no parentheses after <op> for Subject::none()), one more rejection for
// `facility` (an NPK_FACILITY_*), and that message on stderr behind the
// facility's prefix ("wildx: " for the heap and the JIT helpers) unless
// quiet; audit mode prints it even then. `os_errno`, if not 0, appends its
// strerror text. Returns -1.
//
// Never call with the registry lock held (it takes that lock to count).
int32_t fail(int32_t facility, const char* op, Subject subject, int32_t code,
             const char* detail = nullptr, int os_errno = 0);

// The checked call's refusal, fatal to the caller: records and always
// prints (even when quiet, never rate-limited)
//     wildx: call(<page>) refused: <why>
// e.g. "page is not executable (state: freed)", with `code` as the last
// status (NPK_ERR_NOT_EXECUTABLE, NPK_ERR_HASH_MISMATCH). The caller
// aborts right after.
void refuse_call(uintptr_t page, int32_t code, const char* why);

// One line about a problem that is not the failure of a call (a malformed
// environment variable, a page unmapped behind the runtime's back):
// "<prefix>: " + the formatted text, printed even when quiet, counted
// nowhere. Takes no lock, so it may be called with the registry lock held.
void warn_line(int32_t facility, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// One audit line (audit mode only), "wildx: audit " + the formatted text.
void audit_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// What the C ABI reports (npk/status.h).
int32_t last_error();
const char* last_error_message();
const char* status_string(int32_t code);
uint64_t rejections(int32_t facility);

}  // namespace npk
