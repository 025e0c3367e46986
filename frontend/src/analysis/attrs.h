// The attribute names the analyses give a meaning to. The checker only
// verifies that an attribute's arguments name parameters (sema.h,
// AttrInfo); an attribute not listed here is recorded and ignored.
#pragma once

#include <string_view>

namespace npk::attrs {

// #[destroys_arena(p)] on an extern or a function: a call destroys the
// handle arena passed as parameter p, so every handle into it is dead
// after the call (ARIA-032, analysis/handles.cpp). A function without it
// destroys its parameter when its body does (summaries to a fixed point).
inline constexpr std::string_view kDestroysArena = "destroys_arena";

}  // namespace npk::attrs
