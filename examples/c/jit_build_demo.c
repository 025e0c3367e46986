/*
 * jit_build_demo — generating code through the C ABI of libnpkjit
 * (npk/jitbuild.h): build i64 poly(i64 x) = x*x*3 + 7, call it directly
 * and through the checked call, free it. The README's "Generating code"
 * example; CTest runs it (natively and, in the aarch64 build, under qemu).
 * Exits 0, or 1 with the runtime's explanation if a step fails.
 */
#include <npk/jitbuild.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    int32_t x = npk_jit_param(b, NPK_JIT_I64);  /* variables are typed and mutable */
    int32_t k = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_op(b, NPK_JIT_MUL, k, x, x);         /* k = x * x */
    npk_jit_const_i64(b, x, 3);
    npk_jit_op(b, NPK_JIT_MUL, k, k, x);         /* k = k * 3 */
    npk_jit_const_i64(b, x, 7);
    npk_jit_op(b, NPK_JIT_ADD, k, k, x);         /* k = k + 7 */
    npk_jit_ret(b, k);
    /* Compiles, seals (never writable and executable at once), frees b. */
    void* fn = npk_jit_build(b);
    if (fn == NULL) {
        fprintf(stderr, "jit_build_demo: %s\n", npk_last_error_message());
        return 1;
    }
    /* A code address to a function pointer: POSIX allows it (as for dlsym);
       ISO C has no cast for it, so copy the bits. */
    int64_t (*poly)(int64_t);
    memcpy(&poly, &fn, sizeof poly);
    npk_jit_value arg = {.type = NPK_JIT_I64, .i64 = 5}, r;
    if (npk_jit_invoke(fn, &arg, 1, &r) != 0) return 1;  /* checks the signature first */
    printf("poly(4) = %" PRId64 ", invoke(poly, 5) = %" PRId64 "\n", poly(4), r.i64);
    int ok = poly(4) == 55 && r.i64 == 82;
    return npk_wildx_free(fn) == 0 && ok ? 0 : 1;
}
