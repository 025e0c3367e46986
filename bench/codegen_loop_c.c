/* The C side of codegen/loop: sum of a[i] * K, compiled by the project's
 * compiler at -O2 -fno-tree-vectorize (bench/CMakeLists.txt), the
 * baseline a builder-made loop is held to. */
#include <stdint.h>

int64_t bench_sum_scaled_c(const int64_t* a, int64_t n);

int64_t bench_sum_scaled_c(const int64_t* a, int64_t n) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; ++i) s += a[i] * 37;
    return s;
}
