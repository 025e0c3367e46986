// A generator of random, well-typed Nitpick programs that exercise
// resources (tests/fuzz/README.md, "npk_program_fuzz"): heap blocks and
// W^X pages with aliases made by declaration, assignment, struct field,
// return value and @cast (and, as an option, through heap memory); p[i]; defers; drop.npk bindings; pass / fail /
// exit from nested blocks; while with break / continue; helpers that
// release their argument on some or all paths, with and without
// #[releases]; builders, regions, handle arenas.
//
// A program is a sequence of episodes. Each episode acquires a resource,
// uses it through its aliases and releases it exactly once, under random
// control flow; with some probability one mistake is planted (a use or a
// release through a stale alias, a release on some path, a defer in the
// wrong order, ...). The checker should reject exactly the programs with
// a mistake that can happen at run time; the run-time gate must stop
// every mistake that does happen. The same seed always gives the same
// program.
#pragma once

#include <cstdint>
#include <string>

namespace npk::fuzz {

struct GenOptions {
    bool jit = true;      // builders, regions and built functions (needs a JIT host to run)
    int max_episodes = 4;
    // Aliases stored into heap memory and read back (issue 19's shadow
    // identity): a field of a `wild Box` (with drop.npk) and a 64-bit word
    // of an npk_alloc table written through p[i] (@cast<int64>), at an
    // aligned or unaligned offset. Off by default: npk check --strict does
    // not follow pointers through memory yet (tests/fuzz/README.md).
    bool memory_aliases = false;
};

struct Generated {
    std::string text;
    int planted = 0;          // mistakes planted (0: the program should be clean)
    std::string episodes;     // the episode kinds, for reports ("heap:decl/free, jit:region+use-after-free")
};

Generated generate_program(uint64_t seed, const GenOptions& opts);

}  // namespace npk::fuzz
