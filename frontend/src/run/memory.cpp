#include <signal.h>

#include <cstdio>
#include <string>

#include "run/interp_p.h"
#include "run/jit_fault.h"
#include "sema/sema.h"

namespace npk::run {

namespace {

// The address of the element, after the gate; `foreign` when the gate
// knows no resource there.
unsigned char* address(const RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, bool store,
                       Loc at, bool& foreign) {
    if (base.bits == 0) throw Fault{at, "Index into a NULL pointer", NPK_FAULT_NULL_POINTER};
    const uint64_t size = c_size_of(elem);
    Refusal no = gate.access({base.bits, base.tag}, static_cast<int64_t>(index), size, store, &foreign);
    if (no.refused()) throw Fault{at, no.message, no.fault_code, no.note_loc, no.note};
    return reinterpret_cast<unsigned char*>(static_cast<uintptr_t>(base.bits + index * size));
}

[[noreturn]] void fault_at(const MachineFault& mf, const char* verb, uint64_t index, Loc at) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "Machine fault: %s at address 0x%llx (%s element %lld, memory npk did not hand out)",
                  mf.sig == SIGBUS ? "SIGBUS" : "SIGSEGV", static_cast<unsigned long long>(mf.addr), verb,
                  static_cast<long long>(index));
    throw Fault{at, buf, kFaultBadAccess};
}

}  // namespace

Value load_element(const RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, Loc at) {
    bool foreign = false;
    unsigned char* p = address(gate, base, index, elem, false, at, foreign);
    if (!foreign) return load(p, elem);
    struct Ctx {
        unsigned char* p;
        const Type* t;
        Value v;
    } ctx{p, elem, {}};
    MachineFault mf;
    if (!call_catching_faults([](void* c) { static_cast<Ctx*>(c)->v = load(static_cast<Ctx*>(c)->p, static_cast<Ctx*>(c)->t); },
                              &ctx, mf))
        fault_at(mf, "load from", index, at);
    return ctx.v;
}

void store_element(const RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, const Value& v,
                   Loc at) {
    bool foreign = false;
    unsigned char* p = address(gate, base, index, elem, true, at, foreign);
    if (!foreign) return store(p, elem, v);
    struct Ctx {
        unsigned char* p;
        const Type* t;
        const Value* v;
    } ctx{p, elem, &v};
    MachineFault mf;
    if (!call_catching_faults([](void* c) { auto* x = static_cast<Ctx*>(c); store(x->p, x->t, *x->v); }, &ctx, mf))
        fault_at(mf, "store to", index, at);
}

}  // namespace npk::run
