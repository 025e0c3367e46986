/*
 * bug264_jit_add_i32_smoke.npk, written in C against the C ABI: the
 * process `npk run` is compared with. Same steps, same exit codes
 * (2..5 name the step that failed), 77 on a host without the
 * hand-assembled add_i32 (anything but x86-64).
 */
#include <npk/jit.h>
#include <npk/wildx.h>

int main(void) {
    void* page = npk_wildx_alloc(64);
    if (!page) return 1;
    const int32_t installed = npk_jit_install_add_i32(page);
    if (installed != 0 && npk_wildx_last_error() == NPK_WILDX_ERR_UNSUPPORTED_HOST) {
        npk_wildx_free(page);
        return 77;
    }
    const int32_t sealed = npk_wildx_seal(page);
    const int32_t sum = sealed == 0 ? npk_jit_call_i32_i32(page, 7, 35) : 0;
    const int32_t released = npk_wildx_free(page);
    if (installed != 0) return 2;
    if (sealed != 0) return 3;
    if (sum != 42) return 4;
    if (released != 0) return 5;
    return 0;
}
