#include "run/gate.h"

#include <npk/status.h>
#include <npk/wildx.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sema/sema.h"

namespace npk {

namespace {

std::string hex(uint64_t p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(p));
    return buf;
}

}  // namespace

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

Refusal RuntimeGate::check(RuntimeRole role, const std::string& callee, const std::vector<uint64_t>& args) const {
    if (args.empty()) return {};
    const uint64_t p = args[0];
    if (role == RuntimeRole::HeapFree) {
        if (p == 0) return {};  // free(NULL) does nothing
        auto it = live_.find(p);
        if (it != live_.end() && it->second == Kind::Heap) return {};
        std::string why;
        if (it != live_.end())
            why = " is a W^X page from wildx_alloc: release it with wildx_free";
        else if (freed_.count(p))
            why = " was already freed (a double free)";
        else
            why = " is not a live block from alloc (foreign, or inside a block)";
        return {"'" + callee + "' refused: " + hex(p) + why, NPK_FAULT_BAD_FREE};
    }
    if (role == RuntimeRole::CodeCall) {
        if (p == 0)
            return {"Call through a NULL code page ('" + callee + "'; did compiling it fail?)",
                    NPK_FAULT_NULL_CODE_PAGE};
        int32_t state = npk_wildx_state(reinterpret_cast<const void*>(static_cast<uintptr_t>(p)));
        if (state == NPK_WILDX_EXECUTABLE) return {};
        return {"Call through code page " + hex(p) + " ('" + callee + "') refused: " +
                    (state == NPK_WILDX_WRITABLE ? "it is not sealed (call wildx_seal first)"
                                                 : "it is not a live page (freed, or never from wildx_alloc)"),
                NPK_FAULT_BAD_CODE_PAGE};
    }
    return {};
}

void RuntimeGate::before() { rejections_before_ = rejections(); }

void RuntimeGate::after(RuntimeRole role, const std::vector<uint64_t>& args, uint64_t result, Loc at) {
    const uint64_t p = args.empty() ? 0 : args[0];
    switch (role) {
    case RuntimeRole::HeapAlloc:
    case RuntimeRole::PageAlloc:
        if (result != 0) {
            live_[result] = role == RuntimeRole::HeapAlloc ? Kind::Heap : Kind::Page;
            freed_.erase(result);
        }
        break;
    case RuntimeRole::HeapFree:
        if (p != 0 && live_.erase(p)) freed_.insert(p);
        break;
    case RuntimeRole::PageFree:
        if (static_cast<int32_t>(result) == 0 && live_.erase(p)) freed_.insert(p);
        break;
    case RuntimeRole::None:
    case RuntimeRole::PageSeal:
    case RuntimeRole::CodeCall:
        break;
    }
    if (!user_quiet_ && rejections() != rejections_before_)
        diag_.warning(at, "", std::string("The runtime rejected this call: ") + npk_last_error_message());
}

}  // namespace npk
