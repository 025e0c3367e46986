// call_saved.h — calling code the runtime did not build, with every
// callee-saved register put back afterwards (private).
//
// Code written instruction by instruction (runtime/assembler.h, a
// WildXGuard filled by hand) is not bound by the ABI's promise to keep
// RBX, RBP and R12..R15: upstream's own tests clobber R12 and R13 and
// return. A direct call would hand the damage to our caller, so these
// calls go through a small thunk that saves the six registers, calls,
// and restores them. The thunk exists on x86-64 only; elsewhere these
// must not be called (callers test arch::kCpu first).
#pragma once
#include "arch/arch.h"

#include <cstdint>

namespace npk::arch {

// fn(a0, a1) with integer arguments, the integer result.
int64_t call_saving_i64(const void* fn, int64_t a0, int64_t a1);
// fn(d0) with a double argument, the double result.
double call_saving_f64(const void* fn, double d0);

}  // namespace npk::arch
