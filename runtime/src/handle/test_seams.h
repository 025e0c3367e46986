// test_seams.h — private hooks for the tests of the handle arenas.
//
// The tests link npk::jit_static, where these hidden symbols are
// reachable; the shared library does not export them.
#pragma once

#include <cstdint>

namespace npk::handle::testing {

// Arms a failure: the `nth` next memory request of the arena table (1:
// the very next one; a block, a slot array growing, an arena record)
// fails as if the heap were exhausted. 0 disarms.
void fail_nth_alloc(uint32_t nth);

// Lowers the highest generation a slot may reach (default UINT32_MAX), so
// that tests reach slot and arena-id retirement in a few steps. Applies
// to arenas created afterwards; 0 restores the default.
void set_generation_limit(uint32_t limit);

}  // namespace npk::handle::testing
