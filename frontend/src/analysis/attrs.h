// The attribute names the analyses give a meaning to. The type checker
// records every attribute with its arguments resolved to parameter
// indexes (sema.h, AttrInfo) and gives none a meaning; an analysis looks
// up here the names it knows, so a library declares what its functions
// do to their arguments (stdlib/jit.npk, stdlib/handle.npk) and no
// analysis hard-codes a function name. An attribute not listed here is
// recorded and ignored.
#pragma once

#include <string_view>

namespace npk {

namespace attrs {

// #[destroys_arena(p)] on an extern or a function: a call destroys the
// handle arena passed as parameter p, so every handle into it is dead
// after the call (ARIA-032, analysis/handles.cpp). A function without it
// destroys its parameter when its body does (summaries to a fixed point).
inline constexpr std::string_view kDestroysArena = "destroys_arena";

// #[inspects(p)] on an extern or a function: a call reads the address p
// only, never the memory behind it (npk_wildx_state asks the registry
// about any address). Passing a released p there is not a use (ARIA-015,
// analysis/ownership.h).
inline constexpr std::string_view kInspects = "inspects";

// #[calls(p)] on an extern or a function: a call jumps into p, which must
// be a sealed page (npk_jit_call_i32_i32, npk_jit_invoke). A page from
// wildx_alloc called before its wildx_seal is an error (ownership.h);
// a function whose body calls through a parameter does too (summaries).
inline constexpr std::string_view kCalls = "calls";

// #[seals(p)]: a call seals p (npk_jit_region_seal, Jit.region_seal), so
// its code may be called from then on. #[unsealed] (no argument): what
// the callee returns is code memory not sealed yet (Jit.region()); a
// function added to it (Jit.region_add) shares its state.
inline constexpr std::string_view kSeals = "seals";
inline constexpr std::string_view kUnsealed = "unsealed";

}  // namespace attrs

// #[releases(p)]: the call frees p; #[consumes(p)]: the call takes p
// over (it is released as far as the caller is concerned: e.g.
// Jit.compile_function(b) frees the builder b whatever happens). Either
// way, a later use of the caller's binding is ARIA-015 and a second
// release ARIA-022 (nitpick-subset.md §8.2).
inline bool attr_releases_argument(std::string_view name) { return name == "releases" || name == "consumes"; }

}  // namespace npk
