// validate_run.h — runs code the validator accepted in a forked child,
// one instruction at a time under ptrace, and says where control went.
//
// What is asserted, and why only that: the validator's rules are about
// the instructions and the direct control flow, not about the values in
// registers or on the stack. So the child starts the code with every
// general register zero, the return address (x86-64: on a stack filled
// with it; AArch64: in x30) a sentinel that is not mapped, and the
// parent single-steps it up to a step limit. Before every step the
// instruction about to run is checked against an independent list of
// forbidden encodings (matched on the bytes, not by the decoders the
// validator uses). The run is fine when it
//   - returns: control leaves the code right after a return instruction
//     (to the sentinel, or wherever a stack the code changed says);
//   - faults inside the code (a load through a zero register, an
//     instruction this CPU lacks), on an instruction that is not
//     forbidden and, for SIGILL on AArch64, not a system-register move;
//   - is still inside the code at the step limit (a loop).
// It fails when control leaves the code any other way, reaches a
// forbidden instruction, or the child ends by itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace npk::test {

enum class RunOutcome { returned, faulted_inside, step_limit, left_code, forbidden, died };

struct RunResult {
    RunOutcome outcome = RunOutcome::died;
    int signal = 0;        // for faulted_inside
    uintptr_t pc = 0;      // where it stopped
    std::string detail;    // for a failure message
};

bool run_ok(const RunResult& r);
const char* outcome_name(RunOutcome o);

// Whether this host can fork a child, trace it and single-step it within
// a few seconds (not under qemu-user). Probed once.
bool tracing_works();

// Runs `size` bytes at `code` (an EXECUTABLE page) in a traced child for
// at most `max_steps` instructions. Host instruction set only.
RunResult run_traced(const void* code, size_t size, int max_steps);

}  // namespace npk::test
