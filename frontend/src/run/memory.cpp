#include <signal.h>

#include <cstdio>
#include <string>

#include "run/interp_p.h"
#include "run/jit_fault.h"
#include "sema/sema.h"

namespace npk::run {

namespace {

// The address of the element, after the gate; `foreign` when the gate
// knows no resource there, else `block` is the resource.
unsigned char* address(const RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, bool store,
                       Loc at, bool& foreign, uint64_t& block) {
    if (base.bits == 0) throw Fault{at, "Index into a NULL pointer", NPK_FAULT_NULL_POINTER};
    const uint64_t size = c_size_of(elem);
    Refusal no = gate.access({base.bits, base.tag}, static_cast<int64_t>(index), size, store, &foreign, &block);
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

uint64_t word_at(const unsigned char* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// The identities of the scalars of `t` at `p` (a struct's fields), for the shadow.
void stored_fields(RuntimeGate& gate, uint64_t block, const unsigned char* p, const Type* t, const Value& v) {
    if (t->kind == TypeKind::Struct) {
        for (size_t i = 0; i < t->st->fields.size(); ++i)
            stored_fields(gate, block, p + t->st->fields[i].offset, t->st->fields[i].type, v.sub[i]);
        return;
    }
    gate.stored(block, word_at(p), c_size_of(t), v.bits, v.tag);
}

void loaded_fields(const RuntimeGate& gate, const unsigned char* p, const Type* t, Value& v) {
    if (t->kind == TypeKind::Struct) {
        for (size_t i = 0; i < t->st->fields.size(); ++i)
            loaded_fields(gate, p + t->st->fields[i].offset, t->st->fields[i].type, v.sub[i]);
        return;
    }
    if (c_size_of(t) == 8) v.tag = gate.loaded(word_at(p), v.bits);
}

// A `wild S` released already (by drop.npk at its scope's end, before
// the scope's defers run) is refused like any block.
void check_heap(const RuntimeGate& gate, const Value& block, uint64_t offset, const Type* t, bool store,
                const std::string& name, Loc at) {
    const uint64_t size = c_size_of(t);
    Refusal no = gate.access({block.bits + offset, block.tag}, 0, size == 0 ? 1 : size, store);
    if (no.refused())
        throw Fault{at,
                    std::string("Use after release: ") + (store ? "store to" : "load from") + " 'wild " + t->str() +
                        ":" + name + "', a heap struct that was already released",
                    kFaultBadAccess, no.note_loc, no.note};
}

}  // namespace

void store_heap(RuntimeGate& gate, const Value& block, uint64_t offset, const Type* t, const Value& v,
                const std::string& name, Loc at) {
    check_heap(gate, block, offset, t, true, name, at);
    unsigned char* p = heap_ptr(block) + offset;
    store(p, t, v);
    stored_fields(gate, block.tag, p, t, v);
}

Value load_heap(const RuntimeGate& gate, const Value& block, const Type* t, const std::string& name, Loc at) {
    check_heap(gate, block, 0, t, false, name, at);
    const unsigned char* p = heap_ptr(block);
    Value v = load(p, t);
    if (gate.has_shadows()) loaded_fields(gate, p, t, v);
    return v;
}

Value load_element(const RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, Loc at) {
    bool foreign = false;
    uint64_t block = 0;
    unsigned char* p = address(gate, base, index, elem, false, at, foreign, block);
    if (!foreign) {
        Value v = load(p, elem);
        if (c_size_of(elem) == 8) v.tag = gate.loaded(word_at(p), v.bits);
        return v;
    }
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

void store_element(RuntimeGate& gate, const Value& base, uint64_t index, const Type* elem, const Value& v, Loc at) {
    bool foreign = false;
    uint64_t block = 0;
    unsigned char* p = address(gate, base, index, elem, true, at, foreign, block);
    if (!foreign) {
        store(p, elem, v);
        gate.stored(block, word_at(p), c_size_of(elem), v.bits, v.tag);
        return;
    }
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
