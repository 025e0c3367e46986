// config.h — process-wide switches of the wildx heap (private).
//
// Read from the environment at the first call into the heap
// (NPK_WILDX_QUOTA, NPK_WILDX_AUDIT, NPK_WILDX_QUIET); the setters of the
// C ABI override them afterwards. Every getter loads the environment first
// if that has not happened yet, so a setter can never be undone by a late
// read of the environment.
#pragma once

#include <cstddef>

namespace npk::wildx::config {

inline constexpr size_t kDefaultQuota = size_t{64} << 20;  // 64 MiB

size_t quota();
void set_quota(size_t bytes);

bool audit();
void set_audit(bool on);

bool quiet();
void set_quiet(bool on);

bool guard_pages();
void set_guard_pages(bool on);

}  // namespace npk::wildx::config
