// The wild heap and result values of upstream's runtime/allocators.h and
// runtime/result.h (libnpkjit's edition): every function, the bad paths
// (double free, foreign pointers, overflow, bad alignment) included.
#include "runtime/allocators.h"

#include <npk/status.h>

#include "support.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace {

bool all_zero(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
        if (b[i] != 0) return false;
    }
    return true;
}

AllocatorStats stats() {
    AllocatorStats s{};
    npk_allocator_get_stats(&s);
    return s;
}

}  // namespace

TEST_CASE("npk_alloc blocks are zeroed, sized and counted until npk_free", "[upstream][wild]") {
    const AllocatorStats before = stats();
    void* p = npk_alloc(100);
    REQUIRE(p != nullptr);
    CHECK(all_zero(p, 100));
    CHECK(npk_alloc_get_size(p) == 100);
    AllocatorStats mid = stats();
    CHECK(mid.num_wild_allocations == before.num_wild_allocations + 1);
    CHECK(mid.total_wild_allocated == before.total_wild_allocated + 100);
    CHECK(mid.peak_wild_usage >= mid.total_wild_allocated);
    npk_free(p);
    const AllocatorStats after = stats();
    CHECK(after.num_wild_allocations == before.num_wild_allocations);
    CHECK(after.total_wild_allocated == before.total_wild_allocated);
    CHECK(after.num_wild_frees == before.num_wild_frees + 1);
    CHECK(npk_alloc_get_size(p) == 0);
}

TEST_CASE("npk_free refuses a second free and a foreign pointer, and frees nothing", "[upstream][wild][rejection]") {
    void* p = npk_alloc(32);
    REQUIRE(p != nullptr);
    npk_free(p);
    const AllocatorStats before = stats();
    npk::test::StderrCapture cap;
    npk_free(p);  // the second free
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(npk_last_error_message(), "not a live block") != nullptr);
    int on_stack = 0;
    npk_free(&on_stack);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(npk::test::count_lines(cap.text()) == 2);
    CHECK(stats().num_wild_frees == before.num_wild_frees);
    npk_free(nullptr);  // NULL is ignored, not an error
}

TEST_CASE("npk_realloc keeps the bytes, zeroes the growth, frees at 0", "[upstream][wild]") {
    auto* p = static_cast<unsigned char*>(npk_alloc(16));
    REQUIRE(p != nullptr);
    std::memset(p, 0xAB, 16);
    auto* q = static_cast<unsigned char*>(npk_realloc(p, 4096));
    REQUIRE(q != nullptr);
    CHECK(q[0] == 0xAB);
    CHECK(q[15] == 0xAB);
    CHECK(all_zero(q + 16, 4096 - 16));
    CHECK(npk_alloc_get_size(q) == 4096);
    auto* r = static_cast<unsigned char*>(npk_realloc(q, 8));
    REQUIRE(r != nullptr);
    CHECK(r[7] == 0xAB);
    CHECK(npk_alloc_get_size(r) == 8);
    CHECK(npk_realloc(r, 0) == nullptr);
    CHECK(npk_alloc_get_size(r) == 0);
    void* fresh = npk_realloc(nullptr, 24);  // NULL: an allocation
    REQUIRE(fresh != nullptr);
    CHECK(npk_alloc_get_size(fresh) == 24);
    npk_free(fresh);
}

TEST_CASE("npk_realloc refuses what is not a live block and impossible sizes", "[upstream][wild][rejection]") {
    npk::test::StderrCapture cap;
    int x = 0;
    CHECK(npk_realloc(&x, 8) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    void* p = npk_alloc(8);
    REQUIRE(p != nullptr);
    CHECK(npk_realloc(p, SIZE_MAX) == nullptr);
    CHECK(npk_alloc_get_size(p) == 8);  // left as it was
    npk_free(p);
}

TEST_CASE("an aligned buffer is aligned, keeps its alignment through realloc, and free() takes it", "[upstream][wild]") {
    for (size_t align : {size_t{32}, size_t{64}, size_t{4096}}) {
        void* b = npk_alloc_buffer(1000, align, false);
        REQUIRE(b != nullptr);
        CHECK(reinterpret_cast<uintptr_t>(b) % align == 0);
        void* c = npk_realloc(b, 5000);
        REQUIRE(c != nullptr);
        CHECK(reinterpret_cast<uintptr_t>(c) % align == 0);
        const AllocatorStats before = stats();
        std::free(c);  // no hidden header: the C library's free() is valid
        // The table still holds it until the address comes back; a new
        // block there replaces the record and the counters recover.
        CHECK(stats().num_wild_allocations == before.num_wild_allocations);
    }
    void* z = npk_alloc_buffer(256, 0, true);
    REQUIRE(z != nullptr);
    CHECK(all_zero(z, 256));
    npk_free(z);
}

TEST_CASE("npk_alloc_buffer refuses a size of 0 and an alignment that is not a power of two", "[upstream][wild][rejection]") {
    npk::test::StderrCapture cap;
    CHECK(npk_alloc_buffer(0, 16, true) == nullptr);
    CHECK(npk_alloc_buffer(64, 48, true) == nullptr);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(npk_last_error_message(), "power of two") != nullptr);
}

TEST_CASE("strings get their terminator, arrays check the product", "[upstream][wild]") {
    char* s = npk_alloc_string(5);
    REQUIRE(s != nullptr);
    CHECK(npk_alloc_get_size(s) == 6);
    CHECK(s[5] == '\0');
    npk_free(s);
    auto* a = static_cast<int64_t*>(npk_alloc_array(sizeof(int64_t), 10));
    REQUIRE(a != nullptr);
    CHECK(all_zero(a, 80));
    npk_free(a);
    npk::test::StderrCapture cap;
    CHECK(npk_alloc_array(SIZE_MAX / 2, 3) == nullptr);
    CHECK(std::strstr(npk_last_error_message(), "overflows") != nullptr);
    CHECK(npk_alloc_array(0, 3) == nullptr);
    CHECK(npk_alloc_string(SIZE_MAX) == nullptr);
}

TEST_CASE("the _result allocators say why", "[upstream][wild][result]") {
    AriaAllocResult r = npk_alloc_result(64);
    REQUIRE(npk_alloc_result_is_ok(r));
    CHECK(r.requested_size == 64);
    CHECK(all_zero(r.value, 64));
    npk_free(r.value);

    CHECK(npk_alloc_result(0).error_code == ARIA_ALLOC_ERR_INVALID_SIZE);
    CHECK(npk_alloc_array_result(0, 4).error_code == ARIA_ALLOC_ERR_INVALID_SIZE);
    CHECK(npk_alloc_array_result(SIZE_MAX / 2, 3).error_code == ARIA_ALLOC_ERR_SIZE_OVERFLOW);
    AriaAllocResult arr = npk_alloc_array_result(8, 8);
    REQUIRE(npk_alloc_result_is_ok(arr));
    CHECK(arr.requested_size == 64);
    npk_free(arr.value);

    CHECK(npk_alloc_aligned_result(64, 3).error_code == ARIA_ALLOC_ERR_INVALID_ALIGNMENT);
    CHECK(npk_alloc_aligned_result(64, 0).error_code == ARIA_ALLOC_ERR_INVALID_ALIGNMENT);
    CHECK(npk_alloc_aligned_result(0, 64).error_code == ARIA_ALLOC_ERR_INVALID_SIZE);
    AriaAllocResult al = npk_alloc_aligned_result(100, 128);
    REQUIRE(npk_alloc_result_is_ok(al));
    CHECK(reinterpret_cast<uintptr_t>(al.value) % 128 == 0);
    CHECK(al.requested_align == 128);
    npk_free(al.value);

    AriaAllocResult buf = npk_alloc_buffer_result(32, 0, true);
    REQUIRE(npk_alloc_result_is_ok(buf));
    npk_free(buf.value);
    CHECK(npk_alloc_result_is_err(npk_alloc_buffer_result(32, 5, true)));
    CHECK(npk_alloc_buffer_result(SIZE_MAX, 0, false).error_code == ARIA_ALLOC_ERR_INVALID_SIZE);
}

TEST_CASE("allocation error texts", "[upstream][result]") {
    CHECK(std::strcmp(npk_alloc_error_message(ARIA_ALLOC_OK), "success") == 0);
    CHECK(std::strstr(npk_alloc_error_message(ARIA_ALLOC_ERR_SIZE_OVERFLOW), "overflows") != nullptr);
    CHECK(std::strstr(npk_alloc_error_message(ARIA_ALLOC_ERR_INVALID_ALIGNMENT), "power of two") != nullptr);
    CHECK(std::strcmp(npk_alloc_error_message(static_cast<AriaAllocError>(7)), "unknown allocation error") == 0);
    const AriaAllocResult ok = npk_alloc_result_ok(reinterpret_cast<void*>(0x10), 8, 16);
    CHECK(ok.value == reinterpret_cast<void*>(0x10));
    CHECK(ok.requested_align == 16);
    const AriaAllocResult err = npk_alloc_result_err(ARIA_ALLOC_ERR_OUT_OF_MEMORY, 8, 0);
    CHECK(err.value == nullptr);
    CHECK(npk_alloc_result_is_err(err));
}

TEST_CASE("results hold a value or an error, and unwrapping an error is reported", "[upstream][result]") {
    AriaError* e = npk_error_new(ARIA_ERR_NOT_FOUND, "no such thing", "here.c", 7);
    REQUIRE(e != nullptr);
    CHECK(e->code == ARIA_ERR_NOT_FOUND);
    CHECK(std::strcmp(e->message, "no such thing") == 0);
    CHECK(std::strcmp(e->file, "here.c") == 0);
    CHECK(e->line == 7);
    AriaError* m = npk_error_msg(nullptr);
    REQUIRE(m != nullptr);
    CHECK(m->code == ARIA_ERR_UNKNOWN);
    CHECK(std::strcmp(m->message, "") == 0);
    CHECK(m->file == nullptr);

    CHECK(npk_result_is_ok_i64(npk_result_ok_i64(5)));
    CHECK(npk_result_unwrap_i64(npk_result_ok_i64(5)) == 5);
    CHECK(npk_result_unwrap_or_i64(npk_result_err_i64(e), 9) == 9);
    CHECK(npk_result_get_error_i64(npk_result_err_i64(e)) == e);
    CHECK(npk_result_get_error_i64(npk_result_ok_i64(1)) == nullptr);
    CHECK(npk_result_unwrap_f64(npk_result_ok_f64(2.5)) == 2.5);
    CHECK(npk_result_unwrap_or_f64(npk_result_err_f64(e), 1.5) == 1.5);
    CHECK(npk_result_is_err_f64(npk_result_err_f64(nullptr)));
    CHECK(npk_result_unwrap_bool(npk_result_ok_bool(true)));
    CHECK(npk_result_unwrap_or_bool(npk_result_err_bool(e), true));
    CHECK(npk_result_is_ok_bool(npk_result_ok_bool(false)));
    CHECK(npk_result_get_error_bool(npk_result_err_bool(e)) == e);
    int x = 0;
    CHECK(npk_result_unwrap_ptr(npk_result_ok_ptr(&x)) == &x);
    CHECK(npk_result_unwrap_or_ptr(npk_result_err_ptr(e), &x) == &x);
    CHECK(npk_result_is_err_ptr(npk_result_err_ptr(e)));
    CHECK(npk_result_is_ok_ptr(npk_result_ok_ptr(nullptr)));
    CHECK(npk_result_get_error_ptr(npk_result_err_ptr(e)) == e);
    CHECK(npk_result_get_error_f64(npk_result_err_f64(e)) == e);
    CHECK(npk_result_is_ok_void(npk_result_ok_void()));
    CHECK(npk_result_is_err_void(npk_result_err_void(e)));
    CHECK(npk_result_get_error_void(npk_result_err_void(e)) == e);
    CHECK(npk_result_get_error_void(npk_result_ok_void()) == nullptr);
    CHECK_FALSE(npk_result_is_ok_i64(npk_result_err_i64(e)));
    CHECK(npk_result_is_err_i64(npk_result_err_i64(e)));
    CHECK(npk_result_is_ok_f64(npk_result_ok_f64(0)));
    CHECK(npk_result_is_err_bool(npk_result_err_bool(e)));

    npk::test::StderrCapture cap;
    CHECK(npk_result_unwrap_i64(npk_result_err_i64(e)) == 0);
    CHECK(npk_last_error() == NPK_ERR_INVALID_ARGUMENT);
    CHECK(std::strstr(npk_last_error_message(), "no such thing") != nullptr);
    CHECK(npk_result_unwrap_ptr(npk_result_err_ptr(e)) == nullptr);
    CHECK(npk_result_unwrap_f64(npk_result_err_f64(e)) == 0.0);
    CHECK_FALSE(npk_result_unwrap_bool(npk_result_err_bool(e)));
    CHECK(npk::test::count_lines(cap.text()) == 4);
}

TEST_CASE("the statistics lines, at once and at exit", "[upstream][wild]") {
    {
        npk::test::StderrCapture cap;
        npk_wild_print_stats();
        const std::string t = cap.text();
        CHECK(t.find("wild: ") != std::string::npos);
        CHECK(t.find("wildx: ") != std::string::npos);
        CHECK(npk::test::count_lines(t) == 2);
    }
    const npk::test::ChildResult r = npk::test::run_child([] {
        npk_wild_enable_stats_at_exit(true);
        std::exit(0);
    });
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("wild: ") != std::string::npos);
}

TEST_CASE("wild guard pages: an overrun or an underrun faults, npk_free unmaps", "[upstream][wild]") {
    const size_t pg = npk::test::page_size();
    npk_wild_enable_guard_pages(true);
    auto* p = static_cast<unsigned char*>(npk_alloc(100));
    void* aligned = npk_alloc_buffer(3 * pg + 5, 64, false);
    npk_wild_enable_guard_pages(false);
    REQUIRE(p != nullptr);
    REQUIRE(aligned != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    CHECK(reinterpret_cast<uintptr_t>(aligned) % 64 == 0);
    CHECK(all_zero(p, 100));
    CHECK(npk_alloc_get_size(p) == 100);
    p[0] = 1;
    p[99] = 2;  // the block itself is writable
    // It ends 112 bytes in (100 rounded to 16): the next byte is the guard.
    const npk::test::ChildResult over = npk::test::run_child([p] { static_cast<volatile unsigned char*>(p)[112] = 0; });
    CHECK(over.signaled);
    const uintptr_t first_page = (reinterpret_cast<uintptr_t>(p) / pg) * pg;
    const auto* before = reinterpret_cast<volatile unsigned char*>(first_page - 1);
    const npk::test::ChildResult under = npk::test::run_child([before] { (void)*before; });
    CHECK(under.signaled);
    auto* q = static_cast<unsigned char*>(npk_realloc(p, 5000));  // guards off now: an ordinary block
    REQUIRE(q != nullptr);
    CHECK(q[0] == 1);
    CHECK(q[99] == 2);
    CHECK(all_zero(q + 100, 4900));
    npk_free(q);
    const uintptr_t a = reinterpret_cast<uintptr_t>(aligned);
    const uintptr_t lo = (a / pg) * pg - pg, hi = lo + 6 * pg;  // the block's pages and both guards
    npk::test::MapsReader maps;
    maps.read();
    CHECK(maps.any_in(lo, hi));
    npk_free(aligned);
    maps.read();
    CHECK_FALSE(maps.any_in(lo + pg, hi - pg));  // unmapped, guards and all (neighbours may touch the ends)
}
