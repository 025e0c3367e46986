/* A program outside the source tree, built against an installed
 * libnpkjit: allocates a page, seals it, checks the recorded hash against
 * the public FNV-1a function, frees it. Exits 0 on success. */
#include <npk/jit.h>
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
    if (npk_jit_host_supported()) CHECK(npk_jit_install_add_i32(page) == 0);
    CHECK(npk_wildx_seal(page) == 0);
    CHECK(npk_wildx_state(page) == NPK_WILDX_EXECUTABLE);
    uint64_t hash = 0;
    CHECK(npk_wildx_code_hash(page, &hash) == 0);
    CHECK(hash == npk_wildx_fnv1a64(page, npk_wildx_size(page)));
    if (npk_jit_host_supported()) CHECK(npk_jit_call_i32_i32(page, 40, 2) == 42);
    CHECK(npk_wildx_free(page) == 0);
    CHECK(npk_wildx_state(page) == NPK_WILDX_UNKNOWN);
    puts("consumer: ok");
    return 0;
}
