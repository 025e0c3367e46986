// errors.cpp — error texts, the thread's last error, and the stderr lines.
#include "errors.h"

#include <npk/status.h>
#include <npk/wildx.h>

#include "config.h"
#include "registry.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace npk::wildx {
namespace {

thread_local int32_t t_last_error = NPK_WILDX_OK;

// Indexed by code: the one to-string table.
constexpr const char* kErrorText[] = {
    "no error",                 // NPK_WILDX_OK
    "null pointer",             // NPK_WILDX_ERR_NULL
    "zero size",                // NPK_WILDX_ERR_ZERO_SIZE
    "quota exceeded",           // NPK_WILDX_ERR_QUOTA
    "OS refused",               // NPK_WILDX_ERR_OS
    "not a wildx page",         // NPK_WILDX_ERR_NOT_WILDX
    "interior pointer",         // NPK_WILDX_ERR_INTERIOR
    "already freed",            // NPK_WILDX_ERR_FREED
    "already sealed",           // NPK_WILDX_ERR_SEALED
    "not writable",             // NPK_WILDX_ERR_NOT_WRITABLE
    "not executable",           // NPK_WILDX_ERR_NOT_EXECUTABLE
    "unsupported host",         // NPK_WILDX_ERR_UNSUPPORTED_HOST
    "invalid argument",         // NPK_WILDX_ERR_INVALID_ARGUMENT
    "code changed since seal",  // NPK_WILDX_ERR_HASH_MISMATCH
};
static_assert(sizeof kErrorText / sizeof kErrorText[0] == NPK_WILDX_ERR_HASH_MISMATCH + 1,
              "one text per NPK_WILDX_ERR_* code");

constexpr const char* kOpName[] = {"alloc", "seal", "free", "install", "call", "code_hash", "verify", "validate"};

// strerror_r comes in two flavours (XSI returns int, GNU returns the text).
[[maybe_unused]] const char* strerror_text(int r, const char* buf) { return r == 0 ? buf : "unknown OS error"; }
[[maybe_unused]] const char* strerror_text(const char* r, const char*) { return r; }

// One line, one write: lines of concurrent threads never interleave.
void emit(const char* line, int n) {
    if (n <= 0) return;
    std::fwrite(line, 1, static_cast<size_t>(n), stderr);
}

}  // namespace

// The validator's codes, from NPK_ERR_CODE_UNDECODABLE on.
constexpr const char* kValidateText[] = {
    "bytes do not decode",
    "last instruction runs past the end",
    "privileged or system instruction",
    "system call or software interrupt",
    "trap instruction",
    "branch target outside the code",
    "branch target not on an instruction boundary",
    "indirect jump or call",
    "control runs off the end",
};
static_assert(sizeof kValidateText / sizeof kValidateText[0] == NPK_ERR_CODE_FALLS_OFF_END - NPK_ERR_CODE_UNDECODABLE + 1,
              "one text per NPK_ERR_CODE_* code");

const char* error_string(int32_t code) {
    if (code >= NPK_ERR_CODE_UNDECODABLE && code <= NPK_ERR_CODE_FALLS_OFF_END)
        return kValidateText[code - NPK_ERR_CODE_UNDECODABLE];
    if (code < 0 || code > NPK_WILDX_ERR_HASH_MISMATCH) return "unknown error";
    return kErrorText[code];
}

int32_t last_error() { return t_last_error; }

int32_t fail(Op op, uintptr_t subject, int32_t code, const char* detail, int os_errno) {
    t_last_error = code;
    count_rejection();

    const bool is_call = op == Op::call;
    if (!is_call && config::quiet() && !config::audit()) return -1;

    char subj[32];
    if (op == Op::alloc) {
        std::snprintf(subj, sizeof subj, "%" PRIuPTR, subject);
    } else {
        std::snprintf(subj, sizeof subj, "0x%" PRIxPTR, subject);
    }
    char os_text[128] = "";
    const char* os_msg = os_errno != 0 ? strerror_text(strerror_r(os_errno, os_text, sizeof os_text), os_text) : "";
    char line[512];
    int n;
    if (is_call) {
        n = std::snprintf(line, sizeof line, "wildx: call(%s) refused: page is not executable (state: %s)\n",
                          subj, detail ? detail : "unknown");
    } else if (detail != nullptr && os_errno != 0) {
        n = std::snprintf(line, sizeof line, "wildx: %s(%s) rejected: %s (%s: %s)\n",
                          kOpName[static_cast<int>(op)], subj, error_string(code), detail, os_msg);
    } else if (detail != nullptr) {
        n = std::snprintf(line, sizeof line, "wildx: %s(%s) rejected: %s (%s)\n",
                          kOpName[static_cast<int>(op)], subj, error_string(code), detail);
    } else {
        n = std::snprintf(line, sizeof line, "wildx: %s(%s) rejected: %s\n",
                          kOpName[static_cast<int>(op)], subj, error_string(code));
    }
    if (n >= static_cast<int>(sizeof line)) n = static_cast<int>(sizeof line) - 1;
    emit(line, n);
    return -1;
}

void audit_line(const char* fmt, ...) {
    if (!config::audit()) return;
    char line[256];
    int n = std::snprintf(line, sizeof line, "wildx: audit ");
    va_list ap;
    va_start(ap, fmt);
    n += std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
    va_end(ap);
    if (n > static_cast<int>(sizeof line) - 2) n = static_cast<int>(sizeof line) - 2;
    line[n++] = '\n';
    emit(line, n);
}

}  // namespace npk::wildx
