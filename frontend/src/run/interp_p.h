// The interpreter's private parts shared by its files (run/interp.cpp,
// run/memory.cpp): the two ways control leaves the program's code.
#pragma once

#include <cstdint>
#include <string>

#include "diag/diag.h"
#include "run/gate.h"
#include "run/value.h"
#include "sema/types.h"

namespace npk::run {

// `exit N`: unwinds past every defer (§5.2).
struct ExitSignal {
    int32_t status;
};

// A run-time fault (§6.1): printed, then failsafe(code).
struct Fault {
    Loc loc;
    std::string message;
    int32_t code;
    Loc note_loc = {};       // optional: the other half of the story
    std::string note = {};
};

// p[i] = element `index` of the `elem` integers at `base`, checked by the
// gate (liveness, bounds, sealed pages). Memory the gate never handed out
// is the program's business, as in C, but a machine fault there is a
// run-time fault at `at`, not the end of npk. A NULL base is fault 107.
Value load_element(const RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, Loc at);
// The stored word keeps its identity in the gate's shadow (gate.h), and a
// 64-bit element read back gets it again.
void store_element(RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, const Value& v, Loc at);

// A `wild S:name` struct in its heap block (`block`, the slot's value):
// `t` at `offset` (a whole struct, or a field), stored and loaded with the
// identities of its pointer fields (the gate's shadow). A struct already
// released (drop.npk, then a defer reads it) is a fault at `at`.
void store_heap(RuntimeGate& gate, const Value& block, uint64_t offset, const Type* t, const Value& v,
                const std::string& name, Loc at);
Value load_heap(const RuntimeGate& gate, const Value& block, const Type* t, const std::string& name, Loc at);

}  // namespace npk::run
