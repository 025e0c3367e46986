// The gate's table (gate.h): resources by identity, what each runtime call
// made or released, and the checks of p[i]. The checks of calls are in
// gate_check.cpp.
#include "run/gate.h"

#include <npk/handle.h>
#include <npk/jitbuild.h>
#include <npk/status.h>
#include <npk/wildx.h>

#include <cstdlib>
#include <iterator>
#include <cstring>

namespace npk {

RuntimeGate::RuntimeGate(Diagnostics& diag) : diag_(diag) {
    // The runtime's own switch (see npk_wildx_set_quiet): honoured for
    // npk's lines too.
    const char* q = std::getenv("NPK_WILDX_QUIET");
    user_quiet_ = q && *q && std::strcmp(q, "0") != 0;
    npk_wildx_set_quiet(1);
}

RuntimeGate::~RuntimeGate() { npk_wildx_set_quiet(user_quiet_ ? 1 : 0); }

uint64_t RuntimeGate::rejections() {
    uint64_t n = 0;
    for (int32_t f = 0; f < NPK_FACILITY_COUNT; ++f) n += npk_rejections(f);
    return n;
}

const char* RuntimeGate::kind_name(Kind k) {
    switch (k) {
    case Kind::Block: return "heap block";
    case Kind::Page: return "W^X page";
    case Kind::Builder: return "builder";
    case Kind::Region: return "region";
    case Kind::RegionFn: return "region function";
    case Kind::Arena: return "handle arena";
    case Kind::Handle: return "handle";
    case Kind::HandleView: return "handle's block";
    }
    return "resource";
}

namespace {

// Whether bytes [p + index * width, + width) lie inside [base, base + size),
// without overflow whatever the index.
bool element_inside(uint64_t p, uint64_t base, uint64_t size, int64_t index, uint64_t width) {
    if (p < base || width == 0 || p - base > size) return false;
    const uint64_t rel = p - base;
    uint64_t start = 0;
    if (index < 0) {
        const uint64_t back = static_cast<uint64_t>(-(index + 1)) + 1;  // no overflow at INT64_MIN
        if (back > rel / width) return false;
        start = rel - back * width;
    } else {
        const uint64_t fwd = static_cast<uint64_t>(index);
        if (fwd > (UINT64_MAX - rel) / width) return false;
        start = rel + fwd * width;
    }
    return size >= width && start <= size - width;
}

}  // namespace

uint64_t RuntimeGate::add(Kind k, uint64_t word, uint64_t size, uint64_t parent, Loc at) {
    Resource r;
    r.kind = k;
    r.word = word;
    r.size = size;
    r.parent = parent;
    r.made = at;
    const uint64_t id = next_id_++ | static_cast<uint64_t>(k) << 56;
    res_.emplace(id, r);
    if (is_memory(k)) {
        // Released memory the new resource overlaps is live again: its
        // entries go, but the one at the same base (an address malloc
        // handed back, the common case) takes the new id in place.
        auto it = memory_.lower_bound(word);
        if (it != memory_.begin()) {
            auto prev = std::prev(it);
            if (!res(prev->second).live && prev->first + res(prev->second).size > word) it = prev;
        }
        const uint64_t end = word + (size == 0 ? 1 : size);
        while (it != memory_.end() && it->first < end) {
            if (it->first == word) {
                it->second = id;
                ++it;
            } else if (!res(it->second).live) {
                it = memory_.erase(it);
            } else {
                ++it;
            }
        }
        memory_.try_emplace(word, id);
    } else {
        objects_[word] = id;
        dead_.erase(word);
    }
    if (parent != 0) children_[parent].push_back(id);
    return id;
}

const RuntimeGate::Resource& RuntimeGate::res(uint64_t id) const {
    auto it = res_.find(id);
    if (it != res_.end()) return it->second;
    forgotten_ = Resource{};
    forgotten_.kind = kind_of(id);
    forgotten_.live = false;
    return forgotten_;
}

// The oldest released resource goes, with what points at it.
void RuntimeGate::forget_oldest_released() {
    const uint64_t id = released_order_.front();
    released_order_.pop_front();
    auto it = res_.find(id);
    if (it == res_.end()) return;
    const uint64_t word = it->second.word;
    if (auto d = dead_.find(word); d != dead_.end() && d->second == id) dead_.erase(d);
    if (auto d = memory_.find(word); d != memory_.end() && d->second == id) memory_.erase(d);
    res_.erase(it);
}

// A release: the resource and everything made from it (a region's
// functions, an arena's handles, a handle's memory) die with it.
void RuntimeGate::kill(uint64_t id, Loc at) {
    Resource& r = res(id);
    if (!r.live) return;
    r.live = false;
    r.released = at;
    if (is_memory(r.kind)) {
        // Its entry in memory_ stays, dead, until its address is reused
        // or it is forgotten.
        if (r.shadows != 0) forget_shadows(id);
    } else {
        auto it = objects_.find(r.word);
        if (it != objects_.end() && it->second == id) objects_.erase(it);
        dead_[r.word] = id;
    }
    released_order_.push_back(id);
    if (released_order_.size() > kKeepReleased) forget_oldest_released();
    auto kids = children_.find(id);
    if (kids == children_.end()) return;
    std::vector<uint64_t> list = std::move(kids->second);
    children_.erase(kids);
    for (uint64_t c : list) kill(c, at);
}

uint64_t RuntimeGate::resolve(GateWord a, std::initializer_list<Kind> kinds) const {
    auto wanted = [&](Kind k) {
        for (Kind w : kinds)
            if (w == k) return true;
        return false;
    };
    if (a.tag != 0 && a.tag != kForeignTag) return wanted(kind_of(a.tag)) ? a.tag : 0;
    auto obj = objects_.find(a.word);
    if (obj != objects_.end() && wanted(res(obj->second).kind)) return obj->second;
    // Memory: the live block that contains the address (no released
    // entry overlaps a live one: add() removes them).
    auto it = memory_.upper_bound(a.word);
    if (it == memory_.begin()) return 0;
    --it;
    const Resource& r = res(it->second);
    if (!r.live || !wanted(r.kind)) return 0;
    if (a.word == r.word || a.word - r.word < r.size) return it->second;
    return 0;
}

uint64_t RuntimeGate::released_at(uint64_t word) const {
    if (auto it = dead_.find(word); it != dead_.end()) return it->second;
    auto m = memory_.find(word);
    return m != memory_.end() && !res(m->second).live ? m->second : 0;
}

uint64_t RuntimeGate::released_memory_at(uint64_t word) const {
    auto it = memory_.upper_bound(word);
    if (it == memory_.begin()) return 0;
    --it;
    const Resource& r = res(it->second);
    if (r.live) return 0;
    return word - r.word < (r.size == 0 ? 1 : r.size) ? it->second : 0;
}

void RuntimeGate::release_all() {
    std::vector<uint64_t> live;
    for (const auto& [id, r] : res_)
        if (r.live) live.push_back(id);
    for (uint64_t id : live) {
        const Resource& r = res(id);
        if (!r.live) continue;  // went with its parent
        void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(r.word));
        switch (r.kind) {
        case Kind::Block: npk_free(p); break;
        case Kind::Page:
            if (!unmapped_behind(r)) npk_wildx_free(p);  // else: the address is no longer this page's
            break;
        case Kind::Builder: npk_jit_builder_free(static_cast<npk_jit_builder*>(p)); break;
        case Kind::Region: npk_jit_region_free(static_cast<npk_jit_region*>(p)); break;
        case Kind::Arena: npk_handle_arena_destroy(static_cast<int64_t>(r.word)); break;
        case Kind::RegionFn:
        case Kind::Handle:
        case Kind::HandleView: continue;  // they go with their region / arena
        }
        kill(id, {});
    }
}

uint64_t RuntimeGate::track_struct(uint64_t base, uint64_t size, Loc at) { return add(Kind::Block, base, size, 0, at); }

void RuntimeGate::before() { rejections_before_ = rejections(); }

uint64_t RuntimeGate::after(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& args,
                            uint64_t result, Loc at) {
    uint64_t out = 0;
    record(role, args, result, out, at);
    if (user_quiet_ || role == RuntimeRole::CheckedCall || rejections() == rejections_before_) return out;
    // One report per resource: a builder keeps its first error, and every
    // later call on it is refused for that same reason.
    uint64_t id = args.empty() ? 0 : resolve(args[0], {Kind::Builder});
    if (id != 0) {
        if (res(id).reported) return out;
        res(id).reported = true;
    }
    diag_.warning(at, "", "'" + callee + "': the runtime rejected this call: " + npk_last_error_message());
    return out;
}

// What a successful (or refused) runtime call did to the table.
void RuntimeGate::record(RuntimeRole role, const std::vector<GateWord>& args, uint64_t result, uint64_t& out,
                         Loc at) {
    const GateWord a0 = args.empty() ? GateWord{} : args[0];
    auto kill_arg = [&](GateWord a, std::initializer_list<Kind> kinds) {
        if (a.word == 0) return;
        uint64_t id = resolve(a, kinds);
        if (id != 0 && res(id).word == a.word) kill(id, at);
    };
    switch (role) {
    case RuntimeRole::HeapAlloc:
        if (result != 0) out = add(Kind::Block, result, a0.word, 0, at);
        return;
    case RuntimeRole::PageAlloc:
    case RuntimeRole::Build: {
        if (role == RuntimeRole::Build) kill_arg(a0, {Kind::Builder});
        if (result == 0) return;
        const void* p = reinterpret_cast<const void*>(static_cast<uintptr_t>(result));
        out = add(Kind::Page, result, npk_wildx_size(p), 0, at);
        res(out).sealed = npk_wildx_state(p) == NPK_WILDX_EXECUTABLE;
        res(out).alloc_no = npk_wildx_id(p);
        return;
    }
    case RuntimeRole::PageSeal:
        if (static_cast<int32_t>(result) == 0)
            if (uint64_t id = resolve(a0, {Kind::Page})) res(id).sealed = true;
        return;
    case RuntimeRole::HeapFree: kill_arg(a0, {Kind::Block}); return;
    case RuntimeRole::PageFree:
        if (static_cast<int32_t>(result) == 0) kill_arg(a0, {Kind::Page});
        return;
    case RuntimeRole::BuilderNew:
        if (result != 0) out = add(Kind::Builder, result, 0, 0, at);
        return;
    case RuntimeRole::BuilderFree: kill_arg(a0, {Kind::Builder}); return;
    case RuntimeRole::RegionNew:
        if (result != 0) out = add(Kind::Region, result, 0, 0, at);
        return;
    case RuntimeRole::RegionAdd:
        if (args.size() > 1) kill_arg(args[1], {Kind::Builder});
        if (result != 0) out = add(Kind::RegionFn, result, 0, resolve(a0, {Kind::Region}), at);
        return;
    case RuntimeRole::RegionSeal:
        if (static_cast<int32_t>(result) != 0) return;
        if (uint64_t id = resolve(a0, {Kind::Region})) {
            res(id).sealed = true;
            for (uint64_t c : children_[id]) res(c).sealed = true;
        }
        return;
    case RuntimeRole::RegionFree: kill_arg(a0, {Kind::Region}); return;
    case RuntimeRole::ArenaCreate:
        if (result != 0) out = add(Kind::Arena, result, 0, 0, at);
        return;
    case RuntimeRole::ArenaDestroy: kill_arg(a0, {Kind::Arena}); return;
    case RuntimeRole::HandleAlloc:
        if (result != 0 && args.size() > 1)
            out = add(Kind::Handle, result, args[1].word, resolve(a0, {Kind::Arena}), at);
        return;
    case RuntimeRole::HandleDeref:
        if (result == 0) return;
        if (uint64_t h = resolve(a0, {Kind::Handle}); h != 0 && res(h).live) {
            // The same handle's block again: the same view.
            auto seen = memory_.find(result);
            if (seen != memory_.end() && res(seen->second).live && res(seen->second).parent == h) out = seen->second;
            else out = add(Kind::HandleView, result, res(h).size, h, at);
        }
        return;
    case RuntimeRole::HandleFree:
        // The runtime frees only a live handle (generations): when it
        // counted no rejection, the handle is gone.
        if (rejections() == rejections_before_) kill_arg(a0, {Kind::Handle});
        return;
    case RuntimeRole::None:
    case RuntimeRole::CodeCall:
    case RuntimeRole::CheckedCall:
    case RuntimeRole::FunctionQuery:
    case RuntimeRole::BuilderUse:
    case RuntimeRole::RegionUse: return;
    }
}

Refusal RuntimeGate::access(GateWord ptr, int64_t index, uint64_t width, bool store, bool* foreign,
                            uint64_t* block) const {
    const char* verb = store ? "store to" : "load from";
    if (foreign) *foreign = false;
    if (block) *block = 0;
    uint64_t id = resolve(ptr, {Kind::Block, Kind::Page, Kind::HandleView});
    if (id == 0) {
        // No live resource: a word the gate released (no tag left) is a
        // use after release; anything else is memory npk never handed out.
        uint64_t d = released_memory_at(ptr.word);
        auto fn = objects_.find(ptr.word);
        if (store && fn != objects_.end() && res(fn->second).kind == Kind::RegionFn)
            return {"Store into the code of a built function (a region's code is not data): element " +
                        std::to_string(index),
                    kFaultBadAccess, res(fn->second).made, "added to its region here"};
        if (d == 0 && ptr.tag == kForeignTag) {
            if (foreign) *foreign = true;
            return {};
        }
        if (d == 0)
            return {std::string("Refused: ") + verb + " element " + std::to_string(index) + " through a pointer npk " +
                        "cannot trace (made from an integer, outside every live block): index the pointer alloc or a " +
                        "C function gave",
                    kFaultBadAccess};
        id = d;
    }
    const Resource& r = res(id);
    if (!r.live)
        return {std::string("Use after release: ") + verb + " element " + std::to_string(index) + " of a " +
                    kind_name(r.kind) + " (" + std::to_string(r.size) + " bytes) that was already released",
                kFaultBadAccess, r.released, "released here"};
    if (!element_inside(ptr.word, r.word, r.size, index, width))
        return {std::string("Index out of bounds: ") + verb + " element " + std::to_string(index) + " (" +
                    std::to_string(width) + "-byte elements) of a " + kind_name(r.kind) + " of " +
                    std::to_string(r.size) + " bytes",
                kFaultBadAccess, r.made, "allocated here"};
    if (store && r.kind == Kind::Page && r.sealed)
        return {std::string("Store into a sealed W^X page (executable, read-only): element ") + std::to_string(index),
                kFaultBadAccess, r.made, "allocated here"};
    if (block) *block = id;
    return {};
}

}  // namespace npk
