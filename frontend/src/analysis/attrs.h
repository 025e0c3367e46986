// The attribute names the analyses give a meaning to. The type checker
// records every attribute with its arguments resolved to parameter
// indexes (sema.h, AttrInfo) and gives none a meaning; an analysis looks
// up here the names it knows, so a library declares what its functions
// do to their arguments (stdlib/jit.npk) and no analysis hard-codes a
// function name.
#pragma once

#include <string_view>

namespace npk {

// #[releases(p)]: the call frees p; #[consumes(p)]: the call takes p
// over (it is released as far as the caller is concerned: e.g.
// Jit.compile_function(b) frees the builder b whatever happens). Either
// way, a later use of the caller's binding is ARIA-015 and a second
// release ARIA-022 (nitpick-subset.md §8.2).
inline bool attr_releases_argument(std::string_view name) { return name == "releases" || name == "consumes"; }

}  // namespace npk
