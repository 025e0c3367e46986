/*
 * jit_subject.c — a program for perf and gdb to look at (tests/tools/).
 *
 *   jit_subject hot [ms]  builds "npk_hot_loop" (a loop of multiplies,
 *                         adds and xors) and spends about `ms` (default
 *                         1500) milliseconds in it; prints its pid and
 *                         the function's address.
 *   jit_subject call      builds "npk_jit_caller", which calls the C
 *                         function npk_subject_native; calls it, frees
 *                         it, then calls npk_subject_after_free(address):
 *                         the two places the gdb test stops.
 *
 * Written against the public C ABI only, as a user would. Exits 0 on
 * success, 1 when the runtime fails (the last error on stderr).
 */
#include <npk/jitbuild.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ISO C has no cast between object and function pointers; the bits do. */
typedef int64_t (*fn_i64_i64)(int64_t);
static fn_i64_i64 as_fn(void* p) {
    fn_i64_i64 f;
    memcpy(&f, &p, sizeof f);
    return f;
}
static const void* as_ptr(int64_t (*f)(int64_t)) {
    const void* p;
    memcpy(&p, &f, sizeof p);
    return p;
}

static int die(const char* what) {
    fprintf(stderr, "jit_subject: %s: %s\n", what, npk_last_error_message());
    return 1;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* i64 npk_hot_loop(i64 n): acc = 0; for (i = 0; i < n; ++i) acc = (acc + i * 3) ^ i; return acc */
static void* build_hot(void) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    npk_jit_builder_name(b, "npk_hot_loop");
    int32_t n = npk_jit_param(b, NPK_JIT_I64);
    int32_t i = npk_jit_var(b, NPK_JIT_I64), acc = npk_jit_var(b, NPK_JIT_I64);
    int32_t k = npk_jit_var(b, NPK_JIT_I64), one = npk_jit_var(b, NPK_JIT_I64);
    int32_t t = npk_jit_var(b, NPK_JIT_I64), done = npk_jit_var(b, NPK_JIT_I32);
    int32_t top = npk_jit_label(b), out = npk_jit_label(b);
    npk_jit_const_i64(b, k, 3);
    npk_jit_const_i64(b, one, 1);
    npk_jit_bind(b, top);
    npk_jit_op(b, NPK_JIT_GE, done, i, n);
    npk_jit_branch_if(b, done, out);
    npk_jit_op(b, NPK_JIT_MUL, t, i, k);
    npk_jit_op(b, NPK_JIT_ADD, acc, acc, t);
    npk_jit_op(b, NPK_JIT_XOR, acc, acc, i);
    npk_jit_op(b, NPK_JIT_ADD, i, i, one);
    npk_jit_jump(b, top);
    npk_jit_bind(b, out);
    npk_jit_ret(b, acc);
    return npk_jit_build(b);
}

static int hot(long ms) {
    void* fn = build_hot();
    if (fn == NULL) return die("build npk_hot_loop");
    printf("pid %d fn %p\n", (int)getpid(), fn);
    fflush(stdout);
    fn_i64_i64 f = as_fn(fn);
    int64_t sink = 0;
    const double end = now_ms() + (double)ms;
    while (now_ms() < end) sink ^= f(20 * 1000 * 1000);
    printf("result %lld\n", (long long)sink);
    return npk_wildx_free(fn) == 0 ? 0 : die("free");
}

/* gdb stops in these two. noinline and used: they must stay real calls. */
__attribute__((noinline, used)) int64_t npk_subject_native(int64_t x) {
    __asm__ __volatile__("" ::: "memory");
    return x + 1;
}

__attribute__((noinline, used)) void npk_subject_after_free(void* fn) {
    __asm__ __volatile__("" : : "r"(fn) : "memory");
}

static int call(void) {
    npk_jit_builder* b = npk_jit_builder_new(NPK_JIT_I64);
    npk_jit_builder_name(b, "npk_jit_caller");
    int32_t x = npk_jit_param(b, NPK_JIT_I64);
    int32_t r = npk_jit_var(b, NPK_JIT_I64);
    npk_jit_call_native(b, r, as_ptr(npk_subject_native), NPK_JIT_I64, 1, &x);
    npk_jit_op(b, NPK_JIT_ADD, r, r, x);  /* work after the call: a real frame, no tail call */
    npk_jit_ret(b, r);
    void* fn = npk_jit_build(b);
    if (fn == NULL) return die("build npk_jit_caller");
    printf("fn %p\n", fn);
    fflush(stdout);
    int64_t got = as_fn(fn)(20);
    if (got != 41) {
        fprintf(stderr, "jit_subject: npk_jit_caller(20) = %lld, expected 41\n", (long long)got);
        return 1;
    }
    if (npk_wildx_free(fn) != 0) return die("free");
    npk_subject_after_free(fn);
    return 0;
}

int main(int argc, char** argv) {
    if (argc >= 2 && strcmp(argv[1], "hot") == 0) return hot(argc >= 3 ? atol(argv[2]) : 1500);
    if (argc == 2 && strcmp(argv[1], "call") == 0) return call();
    fprintf(stderr, "usage: jit_subject hot [ms] | jit_subject call\n");
    return 2;
}
