// errors.cpp — status texts, the thread's last status and message, the
// per-facility rejection counters and the stderr lines.
#include "core/errors.h"

#include <npk/status.h>

#include "core/config.h"
#include "core/registry.h"

#include <atomic>
#include <cassert>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace npk {
namespace {

thread_local int32_t t_last_error = NPK_OK;
thread_local char t_last_message[512];

std::atomic<uint64_t> g_rejections[NPK_FACILITY_COUNT];

struct StatusText {
    int32_t code;
    const char* text;
};

// The one to-string table. Sparse: each facility owns a range of codes
// (npk/status.h) and the gaps between them read as unknown.
constexpr StatusText kStatusText[] = {
    {NPK_OK, "no error"},
    {NPK_ERR_NULL, "null pointer"},
    {NPK_ERR_ZERO_SIZE, "zero size"},
    {NPK_ERR_QUOTA, "quota exceeded"},
    {NPK_ERR_OS, "OS refused"},
    {NPK_ERR_NOT_WILDX, "not a wildx page"},
    {NPK_ERR_INTERIOR, "interior pointer"},
    {NPK_ERR_FREED, "already freed"},
    {NPK_ERR_SEALED, "already sealed"},
    {NPK_ERR_NOT_WRITABLE, "not writable"},
    {NPK_ERR_NOT_EXECUTABLE, "not executable"},
    {NPK_ERR_UNSUPPORTED_HOST, "unsupported host"},
    {NPK_ERR_INVALID_ARGUMENT, "invalid argument"},
    {NPK_ERR_HASH_MISMATCH, "code changed since seal"},
    {NPK_ERR_OUT_OF_MEMORY, "out of memory"},
    {NPK_ERR_JIT_BUILDER_FAILED, "builder failed earlier"},
    {NPK_ERR_JIT_BAD_TYPE, "invalid type"},
    {NPK_ERR_JIT_BAD_VAR, "unknown variable"},
    {NPK_ERR_JIT_TYPE_MISMATCH, "type mismatch"},
    {NPK_ERR_JIT_BAD_OP, "operation not defined for the type"},
    {NPK_ERR_JIT_BAD_LABEL, "unknown label"},
    {NPK_ERR_JIT_LABEL_BOUND, "label bound twice"},
    {NPK_ERR_JIT_LABEL_UNBOUND, "label never bound"},
    {NPK_ERR_JIT_TOO_MANY_PARAMS, "too many parameters or arguments"},
    {NPK_ERR_JIT_LATE_PARAM, "parameter after the first instruction"},
    {NPK_ERR_JIT_CODEGEN, "code generation failed"},
    {NPK_ERR_JIT_NOT_FUNCTION, "not a built function"},
    {NPK_ERR_JIT_SIGNATURE, "signature mismatch"},
    {NPK_ERR_JIT_REGION_SEALED, "region already sealed"},
    {NPK_ERR_JIT_BUFFER_TOO_SMALL, "buffer too small"},
    {NPK_ERR_JIT_BAD_WIDTH, "invalid memory width for the type"},
    {NPK_ERR_JIT_BAD_SCALE, "index scale not 1, 2, 4 or 8"},
    {NPK_ERR_JIT_BAD_IMM, "immediate does not fit the type"},
    {NPK_ERR_JIT_BAD_SWITCH, "switch table size out of range"},
    {NPK_ERR_CODE_UNDECODABLE, "bytes do not decode"},
    {NPK_ERR_CODE_TRUNCATED, "last instruction runs past the end"},
    {NPK_ERR_CODE_PRIVILEGED, "privileged or system instruction"},
    {NPK_ERR_CODE_SYSCALL, "system call or software interrupt"},
    {NPK_ERR_CODE_TRAP, "trap instruction"},
    {NPK_ERR_CODE_OUTSIDE_TARGET, "branch target outside the code"},
    {NPK_ERR_CODE_MISALIGNED_TARGET, "branch target not on an instruction boundary"},
    {NPK_ERR_CODE_INDIRECT, "indirect jump or call"},
    {NPK_ERR_CODE_FALLS_OFF_END, "control runs off the end"},
    {NPK_ERR_HANDLE_NO_ARENA, "no such arena"},
    {NPK_ERR_HANDLE_STALE, "stale handle"},
    {NPK_ERR_HANDLE_MALFORMED, "not a handle"},
    {NPK_ERR_HANDLE_ARENAS_EXHAUSTED, "no arena id left"},
    {NPK_ERR_HANDLE_ARENA_FULL, "arena full"},
};

constexpr bool codes_ascend() {
    for (size_t i = 1; i < sizeof kStatusText / sizeof kStatusText[0]; ++i) {
        if (kStatusText[i].code <= kStatusText[i - 1].code) return false;
    }
    return true;
}
static_assert(codes_ascend(), "one text per code, in ascending order");

// The line prefix of each facility, indexed by NPK_FACILITY_*. The JIT
// helpers share the heap's: their lines predate the facilities.
constexpr const char* kPrefix[NPK_FACILITY_COUNT] = {"wildx", "wildx", "jitbuild", "validate", "handle"};

// strerror_r comes in two flavours (XSI returns int, GNU returns the text).
[[maybe_unused]] const char* strerror_text(int r, const char* buf) { return r == 0 ? buf : "unknown OS error"; }
[[maybe_unused]] const char* strerror_text(const char* r, const char*) { return r; }

void format_subject(char (&out)[32], Subject s) {
    switch (s.kind) {
        case Subject::Kind::none: out[0] = '\0'; break;
        case Subject::Kind::pointer: std::snprintf(out, sizeof out, "(0x%" PRIxPTR ")", s.value); break;
        case Subject::Kind::size: std::snprintf(out, sizeof out, "(%" PRIuPTR ")", s.value); break;
    }
}

// Counts the rejection and records the message as the thread's last.
void record(int32_t facility, int32_t code) {
    assert(facility >= 0 && facility < NPK_FACILITY_COUNT);
    t_last_error = code;
    g_rejections[facility].fetch_add(1, std::memory_order_relaxed);
    // The heap's own statistics count what the heap and its helpers refuse.
    if (facility == NPK_FACILITY_WILDX || facility == NPK_FACILITY_JIT) wildx::count_rejection();
}

// "<prefix>: <last message>\n" in one write: lines of concurrent threads
// never interleave.
void emit(int32_t facility) {
    char line[sizeof t_last_message + 16];
    int n = std::snprintf(line, sizeof line, "%s: %s\n", kPrefix[facility], t_last_message);
    if (n <= 0) return;
    if (n >= static_cast<int>(sizeof line)) n = static_cast<int>(sizeof line) - 1;
    std::fwrite(line, 1, static_cast<size_t>(n), stderr);
}

}  // namespace

const char* status_string(int32_t code) {
    for (const StatusText& s : kStatusText) {
        if (s.code == code) return s.text;
    }
    return "unknown error";
}

int32_t last_error() { return t_last_error; }
const char* last_error_message() { return t_last_message; }

uint64_t rejections(int32_t facility) {
    if (facility < 0 || facility >= NPK_FACILITY_COUNT) return 0;
    return g_rejections[facility].load(std::memory_order_relaxed);
}

int32_t fail(int32_t facility, const char* op, Subject subject, int32_t code, const char* detail,
             int os_errno) {
    record(facility, code);
    char subj[32];
    format_subject(subj, subject);
    char os_text[128] = "";
    const char* os_msg = os_errno != 0 ? strerror_text(strerror_r(os_errno, os_text, sizeof os_text), os_text) : "";
    char* m = t_last_message;
    const size_t cap = sizeof t_last_message;
    const char* text = status_string(code);
    if (detail != nullptr && os_errno != 0) {
        std::snprintf(m, cap, "%s%s rejected: %s (%s: %s)", op, subj, text, detail, os_msg);
    } else if (detail != nullptr || os_errno != 0) {
        std::snprintf(m, cap, "%s%s rejected: %s (%s)", op, subj, text, detail != nullptr ? detail : os_msg);
    } else {
        std::snprintf(m, cap, "%s%s rejected: %s", op, subj, text);
    }
    if (!config::get(config::quiet) || config::get(config::audit)) emit(facility);
    return -1;
}

void refuse_call(uintptr_t page, const char* state) {
    record(NPK_FACILITY_JIT, NPK_ERR_NOT_EXECUTABLE);
    std::snprintf(t_last_message, sizeof t_last_message,
                  "call(0x%" PRIxPTR ") refused: page is not executable (state: %s)", page, state);
    emit(NPK_FACILITY_JIT);
}

namespace {

// `head` + the formatted text + a newline, cut to one line's buffer, in one
// write.
void vline(const char* head, const char* fmt, va_list ap) {
    char line[512];
    int n = std::snprintf(line, sizeof line, "%s", head);
    n += std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, ap);
    if (n > static_cast<int>(sizeof line) - 2) n = static_cast<int>(sizeof line) - 2;
    line[n++] = '\n';
    std::fwrite(line, 1, static_cast<size_t>(n), stderr);
}

}  // namespace

void warn_line(int32_t facility, const char* fmt, ...) {
    assert(facility >= 0 && facility < NPK_FACILITY_COUNT);
    char head[32];
    std::snprintf(head, sizeof head, "%s: ", kPrefix[facility]);
    va_list ap;
    va_start(ap, fmt);
    vline(head, fmt, ap);
    va_end(ap);
}

void audit_line(const char* fmt, ...) {
    if (!config::get(config::audit)) return;
    va_list ap;
    va_start(ap, fmt);
    vline("wildx: audit ", fmt, ap);
    va_end(ap);
}

}  // namespace npk
