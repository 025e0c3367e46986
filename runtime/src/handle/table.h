// table.h — the arena table behind npk/handle.h (private).
//
// Each function does what the C function of the same name documents and
// returns its status (NPK_OK or an error code of npk/status.h) instead of
// reporting it: the C ABI layer (handle.cpp) makes the error, after the
// table's lock is released.
#pragma once

#include <npk/handle.h>

#include <cstddef>
#include <cstdint>

namespace npk::handle {

// The three fields of a handle (see the layout in npk/handle.h).
struct Fields {
    uint32_t generation;
    uint32_t arena;
    uint32_t slot;
};

inline constexpr uint32_t kMaxArenaId = 0xFFFF;     // ids are 1..kMaxArenaId
inline constexpr uint32_t kMaxSlots = 0x10000;      // slot indexes are 0..kMaxSlots-1
// Larger blocks are refused without asking the C heap (whose answer to an
// absurd size differs between libc and the sanitizers' allocators).
inline constexpr uint64_t kMaxBlockSize = uint64_t{1} << 40;

constexpr npk_handle_t pack(Fields f) {
    return static_cast<npk_handle_t>((static_cast<uint64_t>(f.generation) << 32) |
                                     (static_cast<uint64_t>(f.arena & 0xFFFF) << 16) |
                                     static_cast<uint64_t>(f.slot & 0xFFFF));
}

constexpr Fields unpack(npk_handle_t h) {
    const auto bits = static_cast<uint64_t>(h);
    return Fields{static_cast<uint32_t>(bits >> 32), static_cast<uint32_t>((bits >> 16) & 0xFFFF),
                  static_cast<uint32_t>(bits & 0xFFFF)};
}

int32_t arena_create(int64_t* id_out);
int32_t arena_destroy(int64_t arena);
int32_t alloc(int64_t arena, int64_t size, npk_handle_t* out);
int32_t deref(npk_handle_t h, void** out);
int32_t free_block(npk_handle_t h);
void get_stats(npk_handle_stats* out);

// total_rejections += 1 (for the error path of the C ABI layer).
void count_rejection();

}  // namespace npk::handle
