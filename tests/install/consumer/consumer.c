/* A program outside the source tree, built against an installed
 * libnpkjit: allocates a page, seals it, checks the recorded hash against
 * the public FNV-1a function, frees it; builds a function with the code
 * generator (asmjit inside the library: the static build links with a C
 * linker plus what the package names) and invokes it. Exits 0 on success. */
#include <npk/jit.h>
#include <npk/jitbuild.h>
#include <npk/wildx.h>

#include <stdio.h>

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "consumer: %s:%d: %s failed (%s)\n", __FILE__, \
                    __LINE__, #cond,                                      \
                    npk_wildx_error_string(npk_wildx_last_error()));      \
            return 1;                                                     \
        }                                                                 \
    } while (0)

int main(void) {
    void* page = npk_wildx_alloc(100);
    CHECK(page != NULL);
    CHECK(npk_wildx_state(page) == NPK_WILDX_WRITABLE);
    /* add_i32 is hand-assembled for x86-64; other CPUs refuse it. */
    const int installed = npk_jit_install_add_i32(page) == 0;
    CHECK(installed || npk_wildx_last_error() == NPK_WILDX_ERR_UNSUPPORTED_HOST);
    CHECK(npk_wildx_seal(page) == 0);
    CHECK(npk_wildx_state(page) == NPK_WILDX_EXECUTABLE);
    uint64_t hash = 0;
    CHECK(npk_wildx_code_hash(page, &hash) == 0);
    CHECK(hash == npk_wildx_fnv1a64(page, npk_wildx_size(page)));
    if (installed) CHECK(npk_jit_call_i32_i32(page, 40, 2) == 42);
    CHECK(npk_wildx_free(page) == 0);
    CHECK(npk_wildx_state(page) == NPK_WILDX_UNKNOWN);

    if (npk_jit_host_supported()) {
        npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I32);
        int32_t x = npk_jit_param(b, NPK_JIT_I32), y = npk_jit_param(b, NPK_JIT_I32);
        CHECK(npk_jit_op(b, NPK_JIT_SUB, x, x, y) == 0 && npk_jit_ret(b, x) == 0);
        void* f = npk_jit_build(b);
        CHECK(f != NULL);
        npk_jit_value args[2] = {{.type = NPK_JIT_I32, .i32 = 50}, {.type = NPK_JIT_I32, .i32 = 8}}, r;
        CHECK(npk_jit_invoke(f, args, 2, &r) == 0 && r.i32 == 42);
        CHECK(npk_wildx_free(f) == 0);
    }
    puts("consumer: ok");
    return 0;
}
