// result.cpp — runtime/result.h: result values and error objects.
#include <nitpick/runtime/result.h>
#include <npk/status.h>

#include "core/errors.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace {

char* copy_text(const char* s) {
    const size_t n = std::strlen(s) + 1;
    auto* out = static_cast<char*>(std::malloc(n));
    if (out != nullptr) std::memcpy(out, s, n);
    return out;
}

// Errors live until the process ends (upstream's live on a collected heap
// this runtime does not have): each is kept on one list, so it stays
// reachable rather than leaked.
struct ErrorNode {
    AriaError error;  // first: the caller's pointer is the node's
    ErrorNode* next;
};
std::atomic<ErrorNode*> g_errors{nullptr};

void keep(ErrorNode* n) {
    n->next = g_errors.load(std::memory_order_relaxed);
    while (!g_errors.compare_exchange_weak(n->next, n, std::memory_order_release, std::memory_order_relaxed)) {
    }
}

// Unwrapping an error is the caller's mistake: say so, give the zero value.
void unwrap_error(const char* op, const void* error) {
    const auto* e = static_cast<const AriaError*>(error);
    npk::fail(NPK_FACILITY_WILDX, op, npk::Subject::none(), NPK_ERR_INVALID_ARGUMENT,
              e != nullptr && e->message != nullptr ? e->message : "the result is an error");
}

template <class R, class V>
R ok(V v) {
    R r{};
    r.value = v;
    return r;
}

template <class R>
R err(AriaError* e) {
    R r{};
    r.error = e;
    r.is_error = true;
    return r;
}

}  // namespace

extern "C" {

AriaResultPtr npk_result_ok_ptr(void* value) { return ok<AriaResultPtr>(value); }
AriaResultPtr npk_result_err_ptr(AriaError* error) { return err<AriaResultPtr>(error); }
AriaResultI64 npk_result_ok_i64(int64_t value) { return ok<AriaResultI64>(value); }
AriaResultI64 npk_result_err_i64(AriaError* error) { return err<AriaResultI64>(error); }
AriaResultF64 npk_result_ok_f64(double value) { return ok<AriaResultF64>(value); }
AriaResultF64 npk_result_err_f64(AriaError* error) { return err<AriaResultF64>(error); }
AriaResultBool npk_result_ok_bool(bool value) { return ok<AriaResultBool>(value); }
AriaResultBool npk_result_err_bool(AriaError* error) { return err<AriaResultBool>(error); }
AriaResultVoid npk_result_ok_void(void) { return AriaResultVoid{nullptr, false}; }
AriaResultVoid npk_result_err_void(AriaError* error) { return err<AriaResultVoid>(error); }

AriaError* npk_error_new(int32_t code, const char* message, const char* file, int32_t line) {
    auto* node = static_cast<ErrorNode*>(std::calloc(1, sizeof(ErrorNode)));
    AriaError* e = node != nullptr ? &node->error : nullptr;
    char* msg = copy_text(message != nullptr ? message : "");
    char* where = file != nullptr ? copy_text(file) : nullptr;
    if (e == nullptr || msg == nullptr || (file != nullptr && where == nullptr)) {
        std::free(node);
        std::free(msg);
        std::free(where);
        npk::fail(NPK_FACILITY_WILDX, "npk_error_new", npk::Subject::none(), NPK_ERR_OUT_OF_MEMORY);
        return nullptr;
    }
    *e = AriaError{code, msg, where, line};
    keep(node);
    return e;
}

AriaError* npk_error_msg(const char* message) { return npk_error_new(ARIA_ERR_UNKNOWN, message, nullptr, 0); }

bool npk_result_is_ok_ptr(AriaResultPtr r) { return !r.is_error; }
bool npk_result_is_ok_i64(AriaResultI64 r) { return !r.is_error; }
bool npk_result_is_ok_f64(AriaResultF64 r) { return !r.is_error; }
bool npk_result_is_ok_bool(AriaResultBool r) { return !r.is_error; }
bool npk_result_is_ok_void(AriaResultVoid r) { return !r.is_error; }
bool npk_result_is_err_ptr(AriaResultPtr r) { return r.is_error; }
bool npk_result_is_err_i64(AriaResultI64 r) { return r.is_error; }
bool npk_result_is_err_f64(AriaResultF64 r) { return r.is_error; }
bool npk_result_is_err_bool(AriaResultBool r) { return r.is_error; }
bool npk_result_is_err_void(AriaResultVoid r) { return r.is_error; }

AriaError* npk_result_get_error_ptr(AriaResultPtr r) { return r.is_error ? static_cast<AriaError*>(r.error) : nullptr; }
AriaError* npk_result_get_error_i64(AriaResultI64 r) { return r.is_error ? static_cast<AriaError*>(r.error) : nullptr; }
AriaError* npk_result_get_error_f64(AriaResultF64 r) { return r.is_error ? static_cast<AriaError*>(r.error) : nullptr; }
AriaError* npk_result_get_error_bool(AriaResultBool r) { return r.is_error ? static_cast<AriaError*>(r.error) : nullptr; }
AriaError* npk_result_get_error_void(AriaResultVoid r) { return r.is_error ? static_cast<AriaError*>(r.error) : nullptr; }

void* npk_result_unwrap_ptr(AriaResultPtr r) {
    if (!r.is_error) return r.value;
    unwrap_error("npk_result_unwrap_ptr", r.error);
    return nullptr;
}
int64_t npk_result_unwrap_i64(AriaResultI64 r) {
    if (!r.is_error) return r.value;
    unwrap_error("npk_result_unwrap_i64", r.error);
    return 0;
}
double npk_result_unwrap_f64(AriaResultF64 r) {
    if (!r.is_error) return r.value;
    unwrap_error("npk_result_unwrap_f64", r.error);
    return 0.0;
}
bool npk_result_unwrap_bool(AriaResultBool r) {
    if (!r.is_error) return r.value;
    unwrap_error("npk_result_unwrap_bool", r.error);
    return false;
}

void* npk_result_unwrap_or_ptr(AriaResultPtr r, void* d) { return r.is_error ? d : r.value; }
int64_t npk_result_unwrap_or_i64(AriaResultI64 r, int64_t d) { return r.is_error ? d : r.value; }
double npk_result_unwrap_or_f64(AriaResultF64 r, double d) { return r.is_error ? d : r.value; }
bool npk_result_unwrap_or_bool(AriaResultBool r, bool d) { return r.is_error ? d : r.value; }

AriaAllocResult npk_alloc_result_ok(void* ptr, size_t size, size_t align) {
    return AriaAllocResult{ptr, ARIA_ALLOC_OK, size, align};
}
AriaAllocResult npk_alloc_result_err(AriaAllocError error, size_t size, size_t align) {
    return AriaAllocResult{nullptr, error, size, align};
}
bool npk_alloc_result_is_ok(AriaAllocResult r) { return r.error_code == ARIA_ALLOC_OK; }
bool npk_alloc_result_is_err(AriaAllocResult r) { return r.error_code != ARIA_ALLOC_OK; }

const char* npk_alloc_error_message(AriaAllocError error) {
    switch (error) {
        case ARIA_ALLOC_OK: return "success";
        case ARIA_ALLOC_ERR_OUT_OF_MEMORY: return "out of memory";
        case ARIA_ALLOC_ERR_INVALID_SIZE: return "invalid size (zero, or larger than any object)";
        case ARIA_ALLOC_ERR_INVALID_ALIGNMENT: return "alignment is not a power of two";
        case ARIA_ALLOC_ERR_SIZE_OVERFLOW: return "element size times count overflows";
        case ARIA_ALLOC_ERR_UNSUPPORTED: return "operation not supported";
    }
    return "unknown allocation error";
}

}  // extern "C"
