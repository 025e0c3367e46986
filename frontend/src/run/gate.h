// The gate between the running program and the runtime's heaps. Every
// alloc, free, seal and call through a code page the program makes,
// whether through a builtin or through an `extern func` bound to the
// runtime, passes here:
//
// - npk keeps its own table of the heap blocks and W^X pages the
//   program holds, so a pointer the program did not get from `alloc`
//   (freed already, a page, foreign, interior) never reaches npk_free,
//   where it would corrupt npk's own heap: the call is refused, and the
//   interpreter stops the program with a run-time error at the call;
// - a call through a code page is made only if the page is sealed
//   executable (a writable, freed or foreign page is refused the same
//   way, instead of the runtime aborting npk);
// - the runtime stays quiet while npk runs a program, and npk prints
//   each rejection it counts (wildx_free of a freed page, a second
//   seal, ...) as a warning at the call that caused it, unless
//   NPK_WILDX_QUIET=1 asked for silence.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "diag/diag.h"

namespace npk {

// What a runtime function does to the heaps (RuntimeSymbol, Builtin).
enum class RuntimeRole : uint8_t {
    None,
    HeapAlloc,   // npk_alloc(size) -> block
    HeapFree,    // npk_free(block)
    PageAlloc,   // npk_wildx_alloc(size) -> page
    PageSeal,    // npk_wildx_seal(page)
    PageFree,    // npk_wildx_free(page) -> 0 / -1
    CodeCall,    // calls its first argument, a sealed page
};

struct Refusal {
    std::string message;   // empty: the call may be made
    int32_t fault_code = 0;
};

class RuntimeGate {
public:
    explicit RuntimeGate(Diagnostics& diag);
    ~RuntimeGate();
    RuntimeGate(const RuntimeGate&) = delete;
    RuntimeGate& operator=(const RuntimeGate&) = delete;

    // Whether a call of `role` with these arguments (canonical words)
    // may be made. `callee` names it in the message ("free", "npk_free").
    Refusal check(RuntimeRole role, const std::string& callee, const std::vector<uint64_t>& args) const;

    // Around every call into the runtime: `after` records what the call
    // did (a new block or page, a release) and reports a rejection the
    // runtime counted during it, at `at`.
    void before();
    void after(RuntimeRole role, const std::vector<uint64_t>& args, uint64_t result, Loc at);

private:
    enum class Kind : uint8_t { Heap, Page };
    static uint64_t rejections();

    Diagnostics& diag_;
    bool user_quiet_ = false;
    uint64_t rejections_before_ = 0;
    std::unordered_map<uint64_t, Kind> live_;
    std::unordered_set<uint64_t> freed_;   // released since last handed out
};

}  // namespace npk
