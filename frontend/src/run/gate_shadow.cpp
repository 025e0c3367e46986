// The gate's shadow identity of memory (gate.h): the identity of each
// tagged 8-byte word stored into a block the gate knows, by address, so
// that a pointer read back from memory is the pointer that was stored and
// not whatever newer resource now sits at its address.
#include "run/gate.h"

namespace npk {

namespace {

constexpr uint64_t kWord = 8;

}  // namespace

void RuntimeGate::shadow_erase(std::unordered_map<uint64_t, ShadowWord>::iterator it) {
    if (it->first % kWord != 0) --unaligned_shadows_;
    Resource& r = res(it->second.block);
    if (r.shadows > 0) --r.shadows;
    shadow_.erase(it);
}

// Every entry whose 8 bytes overlap [addr, addr + width) goes (a partial
// or an untagged overwrite); then a tagged 8-byte word is remembered.
void RuntimeGate::shadow_store(uint64_t block, uint64_t addr, uint64_t width, uint64_t word, uint64_t tag) {
    if (!shadow_.empty() && width != 0) {
        const uint64_t first = addr >= kWord - 1 ? addr - (kWord - 1) : 0;
        const uint64_t last = addr + (width - 1);  // inside a live block: no overflow
        // Only aligned entries: only aligned keys can overlap.
        const uint64_t step = unaligned_shadows_ == 0 ? kWord : 1;
        uint64_t k = step == kWord ? (first + kWord - 1) / kWord * kWord : first;
        for (; k <= last && !shadow_.empty(); k += step)
            if (auto it = shadow_.find(k); it != shadow_.end()) shadow_erase(it);
    }
    if (tag == 0 || width != kWord || block == 0) return;
    Resource& r = res(block);
    if (!r.live || !is_memory(r.kind)) return;
    shadow_[addr] = ShadowWord{word, tag, block};
    ++r.shadows;
    if (addr % kWord != 0) ++unaligned_shadows_;
}

// A released block keeps no identities: its address may come back as a
// new block, whose words are not the old one's.
void RuntimeGate::forget_shadows(uint64_t block) {
    Resource& r = res(block);
    if (r.shadows == 0) return;
    if (r.size < shadow_.size()) {
        // Fewer bytes in the block than entries in all: by address.
        for (uint64_t a = r.word; a < r.word + r.size && r.shadows > 0; ++a)
            if (auto it = shadow_.find(a); it != shadow_.end() && it->second.block == block) shadow_erase(it);
    } else {
        for (auto it = shadow_.begin(); it != shadow_.end() && r.shadows > 0;) {
            auto next = std::next(it);
            if (it->second.block == block) shadow_erase(it);
            it = next;
        }
    }
    r.shadows = 0;
}

// C may write any memory it is given a pointer into (memcpy, memset, code
// built with Jit): the words of those blocks fall back to the address
// lookup. (Words C reaches through pointers stored in memory are not
// forgotten here; loaded() still never gives an identity to a word that
// no longer holds the value stored.)
void RuntimeGate::forget_shadows_of_args(const std::vector<GateWord>& args) {
    for (const GateWord& a : args) {
        if (a.word == 0 || a.tag == kForeignTag) continue;
        uint64_t id = resolve(a, {Kind::Block, Kind::Page, Kind::HandleView});
        if (id != 0 && res(id).live) forget_shadows(id);
        if (shadow_.empty()) return;
    }
}

}  // namespace npk
