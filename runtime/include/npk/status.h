/*
 * npk/status.h — one status model for every facility of libnpkjit: the
 * wildx heap, the JIT helpers and checked calls, the function builder
 * and regions, the validator of user code, handle arenas.
 *
 * A C ABI function that fails returns NULL or -1 and sets the calling
 * thread's last status (npk_last_error) and message
 * (npk_last_error_message). Successful calls do not reset them.
 *
 * Codes are grouped by the facility that introduced them; a code means
 * the same thing whichever facility reports it (a builder given a NULL
 * pointer reports NPK_ERR_NULL too). The NPK_WILDX_ERR_* names of the
 * first release are kept as aliases of the first group.
 */
#ifndef NPK_STATUS_H
#define NPK_STATUS_H

#include <npk/api.h>

NPK_EXTERN_C_BEGIN

enum {
    NPK_OK = 0,

    /* 1..31: general and heap (the first release's codes, unchanged). */
    NPK_ERR_NULL             = 1,  /* "null pointer" */
    NPK_ERR_ZERO_SIZE        = 2,  /* "zero size" */
    NPK_ERR_QUOTA            = 3,  /* "quota exceeded" */
    NPK_ERR_OS               = 4,  /* "OS refused" (mmap/mprotect/munmap failed) */
    NPK_ERR_NOT_WILDX        = 5,  /* "not a wildx page" (foreign pointer) */
    NPK_ERR_INTERIOR         = 6,  /* "interior pointer" */
    NPK_ERR_FREED            = 7,  /* "already freed" */
    NPK_ERR_SEALED           = 8,  /* "already sealed" */
    NPK_ERR_NOT_WRITABLE     = 9,  /* "not writable" */
    NPK_ERR_NOT_EXECUTABLE   = 10, /* "not executable" */
    NPK_ERR_UNSUPPORTED_HOST = 11, /* "unsupported host" */
    NPK_ERR_INVALID_ARGUMENT = 12, /* "invalid argument" */
    NPK_ERR_HASH_MISMATCH    = 13, /* "code changed since seal" */
    NPK_ERR_OUT_OF_MEMORY    = 14, /* "out of memory" (a runtime table could not grow) */

    /* 32..63: the function builder, regions, checked calls (npk/jitbuild.h). */
    NPK_ERR_JIT_BUILDER_FAILED  = 32, /* "builder failed earlier" (its first error sticks) */
    NPK_ERR_JIT_BAD_TYPE        = 33, /* "invalid type" */
    NPK_ERR_JIT_BAD_VAR         = 34, /* "unknown variable" */
    NPK_ERR_JIT_TYPE_MISMATCH   = 35, /* "type mismatch" */
    NPK_ERR_JIT_BAD_OP          = 36, /* "operation not defined for the type" */
    NPK_ERR_JIT_BAD_LABEL       = 37, /* "unknown label" */
    NPK_ERR_JIT_LABEL_BOUND     = 38, /* "label bound twice" */
    NPK_ERR_JIT_LABEL_UNBOUND   = 39, /* "label never bound" */
    NPK_ERR_JIT_TOO_MANY_PARAMS = 40, /* "too many parameters or arguments" */
    NPK_ERR_JIT_LATE_PARAM      = 41, /* "parameter after the first instruction" */
    NPK_ERR_JIT_CODEGEN         = 42, /* "code generation failed" */
    NPK_ERR_JIT_NOT_FUNCTION    = 43, /* "not a built function" */
    NPK_ERR_JIT_SIGNATURE       = 44, /* "signature mismatch" */
    NPK_ERR_JIT_REGION_SEALED   = 45, /* "region already sealed" */
    NPK_ERR_JIT_BUFFER_TOO_SMALL = 46, /* "buffer too small" */
    NPK_ERR_JIT_BAD_WIDTH       = 47, /* "invalid memory width for the type" */
    NPK_ERR_JIT_BAD_SCALE       = 48, /* "index scale not 1, 2, 4 or 8" */
    NPK_ERR_JIT_BAD_IMM         = 49, /* "immediate does not fit the type" */
    NPK_ERR_JIT_BAD_SWITCH      = 50, /* "switch table size out of range" */

    /* 64..79: the validator of user-supplied code (npk/validate.h): the
     * rule a finding breaks. */
    NPK_ERR_CODE_UNDECODABLE      = 64, /* "bytes do not decode" */
    NPK_ERR_CODE_TRUNCATED        = 65, /* "last instruction runs past the end" */
    NPK_ERR_CODE_PRIVILEGED       = 66, /* "privileged or system instruction" */
    NPK_ERR_CODE_SYSCALL          = 67, /* "system call or software interrupt" */
    NPK_ERR_CODE_TRAP             = 68, /* "trap instruction" */
    NPK_ERR_CODE_OUTSIDE_TARGET   = 69, /* "branch target outside the code" */
    NPK_ERR_CODE_MISALIGNED_TARGET = 70, /* "branch target not on an instruction boundary" */
    NPK_ERR_CODE_INDIRECT         = 71, /* "indirect jump or call" */
    NPK_ERR_CODE_FALLS_OFF_END    = 72, /* "control runs off the end" */
    /* 80..95: handle arenas (npk/handle.h). */
    NPK_ERR_HANDLE_NO_ARENA         = 80, /* "no such arena" (never created, or destroyed) */
    NPK_ERR_HANDLE_STALE            = 81, /* "stale handle" (its block was freed) */
    NPK_ERR_HANDLE_MALFORMED        = 82, /* "not a handle" (no allocation returned it) */
    NPK_ERR_HANDLE_ARENAS_EXHAUSTED = 83, /* "no arena id left" */
    NPK_ERR_HANDLE_ARENA_FULL       = 84, /* "arena full" (no usable slot left) */
};

/* The facilities, as npk_rejections counts them. */
enum {
    NPK_FACILITY_WILDX    = 0, /* alloc, seal, free, hash, verify */
    NPK_FACILITY_JIT      = 1, /* install, checked calls */
    NPK_FACILITY_BUILDER  = 2, /* builder, regions, invoke */
    NPK_FACILITY_VALIDATE = 3, /* the validator */
    NPK_FACILITY_HANDLE   = 4, /* handle arenas */
    NPK_FACILITY_COUNT    = 5
};

/* Aliases kept from the first release (npk/wildx.h). */
#define NPK_WILDX_OK                   NPK_OK
#define NPK_WILDX_ERR_NULL             NPK_ERR_NULL
#define NPK_WILDX_ERR_ZERO_SIZE        NPK_ERR_ZERO_SIZE
#define NPK_WILDX_ERR_QUOTA            NPK_ERR_QUOTA
#define NPK_WILDX_ERR_OS               NPK_ERR_OS
#define NPK_WILDX_ERR_NOT_WILDX        NPK_ERR_NOT_WILDX
#define NPK_WILDX_ERR_INTERIOR         NPK_ERR_INTERIOR
#define NPK_WILDX_ERR_FREED            NPK_ERR_FREED
#define NPK_WILDX_ERR_SEALED           NPK_ERR_SEALED
#define NPK_WILDX_ERR_NOT_WRITABLE     NPK_ERR_NOT_WRITABLE
#define NPK_WILDX_ERR_NOT_EXECUTABLE   NPK_ERR_NOT_EXECUTABLE
#define NPK_WILDX_ERR_UNSUPPORTED_HOST NPK_ERR_UNSUPPORTED_HOST
#define NPK_WILDX_ERR_INVALID_ARGUMENT NPK_ERR_INVALID_ARGUMENT
#define NPK_WILDX_ERR_HASH_MISMATCH    NPK_ERR_HASH_MISMATCH

/* ---------------------------------------------------------------------
 * The last failure of this thread, and the counters.
 * ------------------------------------------------------------------- */

/* The NPK_ERR_* code of the last failed call on this thread, whatever
 * its facility (NPK_OK if none has failed). Successful calls do not
 * reset it. */
NPK_API int32_t npk_last_error(void);

/*
 * The full text of the last failure on this thread, never NULL ("" if
 * none has failed): the operation, its subject, the status text and any
 * detail, e.g. "seal(0x7f3a1c000000) rejected: already sealed" (the
 * stderr line without its "wildx: " prefix). The text is owned by the
 * runtime and stays valid, unchanged, until this thread's next failure.
 */
NPK_API const char* npk_last_error_message(void);

/* A static, never-NULL English text for a status code ("unknown error"
 * for codes this version does not know, including the reserved gaps). */
NPK_API const char* npk_status_string(int32_t code);

/* How many calls of `facility` (an NPK_FACILITY_*) failed since the
 * process started; 0 for an unknown facility. Never fails. */
NPK_API uint64_t npk_rejections(int32_t facility);

NPK_EXTERN_C_END

#endif /* NPK_STATUS_H */
