// config.h — process-wide settings of the runtime (private).
//
// Read from the environment at the first read or write of any setting
// (NPK_WILDX_QUOTA, NPK_WILDX_AUDIT, NPK_WILDX_QUIET); the setters of the
// C ABI override them afterwards, and can never be undone by a late read
// of the environment.
#pragma once

#include <cstddef>

namespace npk::config {

inline constexpr size_t kDefaultQuota = size_t{64} << 20;  // 64 MiB

enum Setting : unsigned {
    quota,        // bytes the live wildx pages may use (NPK_WILDX_QUOTA)
    audit,        // 0/1: a line per alloc, seal, free and rejection (NPK_WILDX_AUDIT)
    quiet,        // 0/1: no rejection lines (NPK_WILDX_QUIET)
    guard_pages,  // 0/1: an inaccessible page on either side of new pages
    kSettingCount
};

size_t get(Setting s);
void set(Setting s, size_t value);

// fork(): the registry's handlers call these, so that a fork while another
// thread reads the environment leaves the child a usable lock.
void before_fork();
void after_fork_in_parent();
void after_fork_in_child();

}  // namespace npk::config
