/*
 * add_demo — the whole wildx life cycle through the C ABI of libnpkjit:
 *
 *   npk_wildx_alloc   a fresh page, read+write, not executable
 *   install           write machine code into it (here: int32 add)
 *   npk_wildx_seal    hash the page, then flip it to read+execute for good
 *   call              run the code through the checked call
 *   npk_wildx_free    unmap the page and unregister it
 *
 * Build and run (from a build tree):  ./examples/npk_add_demo
 * On a host other than x86-64 it shows the heap part of the cycle and
 * says "unsupported host"; it exits 0 either way, and 1 if the runtime
 * misbehaves.
 */
#include <npk/jit.h>
#include <npk/wildx.h>

#include <inttypes.h>
#include <stdio.h>

/* Reports a failed step with the runtime's own explanation. */
static int failed(const char* step) {
    int32_t code = npk_wildx_last_error();
    fprintf(stderr, "add_demo: %s failed: %s\n", step, npk_wildx_error_string(code));
    return 1;
}

int main(void) {
    /* Any size works; it is rounded up to whole pages. The page starts
     * zero-filled and WRITABLE. */
    void* page = npk_wildx_alloc(64);
    if (page == NULL) return failed("npk_wildx_alloc");
    printf("allocated %zu bytes at %p (writable)\n", npk_wildx_size(page), page);

    /* Writes mov eax, edi / add eax, esi / ret at the start of the page:
     * x86-64 machine code. On another CPU the runtime refuses to install
     * rather than write bytes that would not run, and says so on stderr
     * ("wildx: install(0x...) rejected: unsupported host";
     * npk_wildx_set_quiet(1) would silence it). The heap works. (The
     * code generator of npk/jitbuild.h runs on AArch64 too: see
     * jit_build_demo.c.) */
    if (npk_jit_install_add_i32(page) != 0) {
        if (npk_wildx_last_error() != NPK_WILDX_ERR_UNSUPPORTED_HOST)
            return failed("npk_jit_install_add_i32");
        if (npk_wildx_seal(page) != 0) return failed("npk_wildx_seal");
        uint64_t hash = 0;
        if (npk_wildx_code_hash(page, &hash) != 0) return failed("npk_wildx_code_hash");
        printf("sealed an empty page, hash 0x%016" PRIx64 "\n", hash);
        if (npk_wildx_free(page) != 0) return failed("npk_wildx_free");
        printf("unsupported host: no hand-assembled add_i32 for this CPU; the wildx heap works\n");
        return 0;
    }

    /* From here the page is read+execute and can never be written again.
     * The hash covers every byte of the page and is recorded for later
     * checks (npk_wildx_verify). */
    if (npk_wildx_seal(page) != 0) return failed("npk_wildx_seal");
    uint64_t hash = 0;
    if (npk_wildx_code_hash(page, &hash) != 0) return failed("npk_wildx_code_hash");

    /* The checked call looks the page up first: calling a page that is
     * not sealed (or was freed) aborts with a message instead of jumping
     * into writable or unmapped memory. */
    int32_t sum = npk_jit_call_i32_i32(page, 7, 35);
    printf("add(7, 35) = %" PRId32 "\n", sum);
    printf("recorded hash 0x%016" PRIx64 "\n", hash);

    /* The page is unmapped; the pointer is dangling from here on. */
    if (npk_wildx_free(page) != 0) return failed("npk_wildx_free");
    return sum == 42 ? 0 : 1;
}
