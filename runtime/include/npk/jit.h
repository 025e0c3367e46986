/*
 * npk/jit.h — JIT helpers of the Nitpick runtime (C ABI): install a
 * known function into a WRITABLE wildx page, and call a sealed page
 * with its signature checked against the registry.
 *
 * The symbol names npk_jit_install_add_i32 and npk_jit_call_i32_i32 are
 * the ones stdlib/jit.npk declares as externs; they never change.
 */
#ifndef NPK_JIT_H
#define NPK_JIT_H

#include <npk/api.h>
#include <npk/status.h>
#include <npk/wildx.h>

NPK_EXTERN_C_BEGIN

/*
 * 1 if this process can generate and run code for its CPU (x86-64 in
 * this release), 0 otherwise. The wildx heap works either way.
 */
NPK_API int32_t npk_jit_host_supported(void);

/*
 * Writes `int32 add(int32 a, int32 b)` for the host's C calling
 * convention at the start of `page` (on x86-64 System V, 5 bytes:
 * mov eax, edi / add eax, esi / ret).
 *
 * Returns 0 on success. Returns -1 and writes nothing if `page` is not
 * the start of a WRITABLE wildx page (NULL, foreign, interior, freed or
 * sealed: the last error says which) or if the host is unsupported
 * (NPK_WILDX_ERR_UNSUPPORTED_HOST). The page still has to be sealed
 * before it can be called.
 */
NPK_API int32_t npk_jit_install_add_i32(void* page);

/*
 * Calls `page` as `int32 (*)(int32, int32)` and returns its result.
 *
 * The page must be the start of an EXECUTABLE wildx page. Anything else
 * (NULL, foreign, interior, freed, or still WRITABLE) is a programming
 * error that would otherwise jump into unmapped or writable memory: the
 * call prints one line naming the page and its state to stderr, such as
 *     wildx: call(0x7f3a1c000000) refused: page is not executable (state: freed)
 * and aborts the process. It never returns a made-up value.
 *
 * The check takes no global lock. A page freed by another thread while
 * this call runs is a use-after-free in the caller, as with any pointer.
 */
NPK_API int32_t npk_jit_call_i32_i32(void* page, int32_t a, int32_t b);

NPK_EXTERN_C_END

#endif /* NPK_JIT_H */
