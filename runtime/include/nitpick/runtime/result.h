/*
 * runtime/result.h — upstream Nitpick's result values for C code
 * (libnpkjit's edition; include it as "runtime/result.h" with
 * -I<prefix>/include/nitpick).
 *
 * A result is a small struct returned by value: either a value, or an
 * error and no value. Nothing here allocates except npk_error_new and
 * npk_error_msg; nothing here ever aborts the process.
 *
 * Names, types and numbers are upstream's, so that code written against
 * upstream's runtime compiles unchanged. The allocation results
 * (AriaAllocResult) are what the *_result allocators of
 * runtime/allocators.h return.
 */
#ifndef NPK_UPSTREAM_RUNTIME_RESULT_H
#define NPK_UPSTREAM_RUNTIME_RESULT_H

#include "../../npk/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

NPK_EXTERN_C_BEGIN

/* ---------------------------------------------------------------------
 * Results of a value or an error. `is_error` tells which half holds;
 * the other half is zero (NULL, 0, 0.0, false).
 * ------------------------------------------------------------------- */
typedef struct {
    void* value;
    void* error;   /* an AriaError*, or NULL */
    bool is_error;
} AriaResultPtr;

typedef struct {
    int64_t value;
    void* error;
    bool is_error;
} AriaResultI64;

typedef struct {
    double value;
    void* error;
    bool is_error;
} AriaResultF64;

typedef struct {
    bool value;
    void* error;
    bool is_error;
} AriaResultBool;

typedef struct {
    void* error;
    bool is_error;
} AriaResultVoid;

/* An error: a code (one of ARIA_ERR_* below, or the caller's own), a
 * message, and where it was raised (file may be NULL, line 0). */
typedef struct {
    int32_t code;
    const char* message;
    const char* file;
    int32_t line;
} AriaError;

/* Codes for AriaError.code. */
#define ARIA_ERR_UNKNOWN             -1
#define ARIA_ERR_INVALID_ARG         -2
#define ARIA_ERR_OUT_OF_MEMORY       -3
#define ARIA_ERR_NOT_FOUND           -4
#define ARIA_ERR_PERMISSION          -5
#define ARIA_ERR_IO                  -6
#define ARIA_ERR_TIMEOUT             -7
#define ARIA_ERR_OVERFLOW            -8
#define ARIA_ERR_UNDERFLOW           -9
#define ARIA_ERR_DIV_BY_ZERO         -10
#define ARIA_ERR_NULL_PTR            -11
#define ARIA_ERR_INDEX_OUT_OF_BOUNDS -12
#define ARIA_ERR_OUT_OF_BOUNDS       -12

/* Makers: the _ok forms hold the value, the _err forms hold `error`
 * (which may be NULL: the result is an error all the same). */
NPK_API AriaResultPtr  npk_result_ok_ptr(void* value);
NPK_API AriaResultPtr  npk_result_err_ptr(AriaError* error);
NPK_API AriaResultI64  npk_result_ok_i64(int64_t value);
NPK_API AriaResultI64  npk_result_err_i64(AriaError* error);
NPK_API AriaResultF64  npk_result_ok_f64(double value);
NPK_API AriaResultF64  npk_result_err_f64(AriaError* error);
NPK_API AriaResultBool npk_result_ok_bool(bool value);
NPK_API AriaResultBool npk_result_err_bool(AriaError* error);
NPK_API AriaResultVoid npk_result_ok_void(void);
NPK_API AriaResultVoid npk_result_err_void(AriaError* error);

/*
 * A new error with a copy of `message` (and of `file`, if not NULL).
 * The error and its strings are owned by the runtime and live until the
 * process ends: upstream keeps them on its collected heap, which this
 * runtime does not have, so each call costs memory that is never given
 * back. Returns NULL if memory runs out. A NULL message reads as "".
 */
NPK_API AriaError* npk_error_new(int32_t code, const char* message, const char* file, int32_t line);
/* npk_error_new(ARIA_ERR_UNKNOWN, message, NULL, 0). */
NPK_API AriaError* npk_error_msg(const char* message);

/* Queries. */
NPK_API bool npk_result_is_ok_ptr(AriaResultPtr result);
NPK_API bool npk_result_is_ok_i64(AriaResultI64 result);
NPK_API bool npk_result_is_ok_f64(AriaResultF64 result);
NPK_API bool npk_result_is_ok_bool(AriaResultBool result);
NPK_API bool npk_result_is_ok_void(AriaResultVoid result);
NPK_API bool npk_result_is_err_ptr(AriaResultPtr result);
NPK_API bool npk_result_is_err_i64(AriaResultI64 result);
NPK_API bool npk_result_is_err_f64(AriaResultF64 result);
NPK_API bool npk_result_is_err_bool(AriaResultBool result);
NPK_API bool npk_result_is_err_void(AriaResultVoid result);

/* The error of an error result; NULL for a value. */
NPK_API AriaError* npk_result_get_error_ptr(AriaResultPtr result);
NPK_API AriaError* npk_result_get_error_i64(AriaResultI64 result);
NPK_API AriaError* npk_result_get_error_f64(AriaResultF64 result);
NPK_API AriaError* npk_result_get_error_bool(AriaResultBool result);
NPK_API AriaError* npk_result_get_error_void(AriaResultVoid result);

/*
 * The value. Unwrapping an error result is the caller's mistake: it is
 * reported (last error NPK_ERR_INVALID_ARGUMENT, one stderr line with the
 * error's message) and the zero value is returned; the process goes on.
 */
NPK_API void*   npk_result_unwrap_ptr(AriaResultPtr result);
NPK_API int64_t npk_result_unwrap_i64(AriaResultI64 result);
NPK_API double  npk_result_unwrap_f64(AriaResultF64 result);
NPK_API bool    npk_result_unwrap_bool(AriaResultBool result);

/* The value, or `default_value` for an error result. */
NPK_API void*   npk_result_unwrap_or_ptr(AriaResultPtr result, void* default_value);
NPK_API int64_t npk_result_unwrap_or_i64(AriaResultI64 result, int64_t default_value);
NPK_API double  npk_result_unwrap_or_f64(AriaResultF64 result, double default_value);
NPK_API bool    npk_result_unwrap_or_bool(AriaResultBool result, bool default_value);

/* ---------------------------------------------------------------------
 * Allocation results.
 * ------------------------------------------------------------------- */
typedef enum {
    ARIA_ALLOC_OK = 0,
    ARIA_ALLOC_ERR_OUT_OF_MEMORY = 1,     /* the C allocator had nothing */
    ARIA_ALLOC_ERR_INVALID_SIZE = 2,      /* a size or count of 0, or too large */
    ARIA_ALLOC_ERR_INVALID_ALIGNMENT = 3, /* not a power of two */
    ARIA_ALLOC_ERR_SIZE_OVERFLOW = 4,     /* elem_size * count does not fit size_t */
    ARIA_ALLOC_ERR_UNSUPPORTED = 5
} AriaAllocError;

/* `value` is the block when error_code is ARIA_ALLOC_OK, else NULL; the
 * size and alignment are what the caller asked for (0: default). */
typedef struct {
    void* value;
    AriaAllocError error_code;
    size_t requested_size;
    size_t requested_align;
} AriaAllocResult;

NPK_API AriaAllocResult npk_alloc_result_ok(void* ptr, size_t size, size_t align);
NPK_API AriaAllocResult npk_alloc_result_err(AriaAllocError error, size_t size, size_t align);
NPK_API bool npk_alloc_result_is_ok(AriaAllocResult result);
NPK_API bool npk_alloc_result_is_err(AriaAllocResult result);
/* A static text for each code ("unknown allocation error" for others). */
NPK_API const char* npk_alloc_error_message(AriaAllocError error);

NPK_EXTERN_C_END

#endif /* NPK_UPSTREAM_RUNTIME_RESULT_H */
