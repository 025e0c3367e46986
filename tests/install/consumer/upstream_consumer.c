/* Built by the install test: a C program written against upstream
 * Nitpick's runtime API, found as "runtime/..." through the include
 * directory the package and npkjit.pc give (include/nitpick). */
#include "runtime/allocators.h"
#include "runtime/assembler.h"
#include "runtime/handle.h"
#include "runtime/result.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPECT(cond)                                                  \
    do {                                                              \
        if (!(cond)) {                                                \
            fprintf(stderr, "upstream_consumer: failed: %s\n", #cond); \
            return 1;                                                 \
        }                                                             \
    } while (0)

int main(void) {
    void* aligned = npk_alloc_buffer(100, 64, true);
    EXPECT(aligned != NULL && (uintptr_t)aligned % 64 == 0);
    free(aligned); /* no hidden header: free() is valid */

    AriaAllocResult r = npk_alloc_array_result(SIZE_MAX / 2, 3);
    EXPECT(r.error_code == ARIA_ALLOC_ERR_SIZE_OVERFLOW);

    npk_handle_t h = npk_handle_alloc(npk_handle_arena_create(), 8);
    EXPECT(h != NPK_HANDLE_NULL && npk_handle_deref(h) != NULL);

    WildXGuard g = npk_alloc_exec(1);
    EXPECT(g.state == WILDX_STATE_WRITABLE);
    EXPECT(npk_mem_protect_exec(&g) == 0 && g.code_hash != 0);
    npk_free_exec(&g);
    EXPECT(g.state == WILDX_STATE_FREED);

    Assembler* a = npk_asm_create();
    int v = npk_asm_vreg_new_gpr(a);
    npk_asm_mov_r64_imm64(a, (AsmRegister)v, 40);
    npk_asm_add_r64_imm32(a, (AsmRegister)v, 2);
    npk_asm_mov_r64_r64(a, REG_RAX, (AsmRegister)v);
    npk_asm_ret(a);
    WildXGuard code = npk_asm_finalize(a);
    if (npk_asm_arch_supported(ASM_ARCH_X86_64)) {
        EXPECT(npk_asm_execute(&code) == 42);
        npk_free_exec(&code);
    } else {
        EXPECT(code.ptr == NULL && npk_asm_has_error(a));
    }
    npk_asm_destroy(a);
    printf("upstream_consumer: ok\n");
    return 0;
}
