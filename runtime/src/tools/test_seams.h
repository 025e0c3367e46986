// test_seams.h — private hooks of tools/ for the runtime's own tests.
#pragma once

#include <cstdint>

namespace npk::tools::testing {

// How many registered GDB objects the unregistering of freed code has
// looked at so far in this process (gdb_jit.cpp): one per free when it
// finds its object at once.
uint64_t gdb_retire_steps();

}  // namespace npk::tools::testing
