// What runs when a block ends, besides its defers (nitpick-subset.md §9,
// issue 13): the drop.npk RAII bindings, and values of structs that have
// an impl:Drop. The lifecycle analysis and the interpreter both ask here,
// so a binding is recognised the same way by the check and by the run.
#pragma once

#include <cstdint>

#include "syntax/ast.h"

namespace npk {

enum class DropKind : uint8_t {
    None,
    Wild,   // wild S:x = S{...};               the heap struct is freed (npk_free)
    Wildx,  // wildx T->:p = wildx_alloc(n);     wildx_free(p)
    Arena,  // int64:a = raw HandleArena.create();   npk_handle_arena_destroy(a)
    Jit,    // wildx int8->:f = raw Jit.compile_*();  wildx_free(f)
    Impl,   // S:x with impl:Drop:for:S           S.drop(x)
};

// "wild", "wildx", "arena", "jit", "impl" (the --trace-drops words).
const char* drop_kind_name(DropKind k);

// Which RAII kinds drop.npk switched on: each by the presence of its
// sentinel struct anywhere in the program (§9.1).
struct DropSwitches {
    bool wild = false, wildx = false, arena = false, jit = false;
    bool any() const { return wild || wildx || arena || jit; }
};
DropSwitches drop_switches(const ast::Program& prog);

// The RAII kind of a declaration (§9.2), read from its shape: qualifiers,
// written type and initializer (after `raw` / `drop`). None when the
// kind is switched off or the shape is not one of the four.
DropKind raii_kind(const ast::VarDecl& d, const DropSwitches& on);

}  // namespace npk
