// 60,000 one-page allocations live at once (vm.max_map_count is 65530 on
// a stock kernel): without address hints the kernel places them side by
// side and merges them into few mappings.
#include "support.h"

#include <fstream>
#include <vector>

using namespace npk::test;

TEST_CASE("60000 one-page allocations can be live at once and are all freed", "[scale]") {
    constexpr size_t kPages = 60000;
    SwitchesGuard g;
    const size_t pg = page_size();
    npk_wildx_set_quota(stats_now().live_bytes + kPages * pg);
    StatsWatch w;
    std::vector<void*> pages;
    pages.reserve(kPages);
    for (size_t i = 0; i < kPages; ++i) {
        void* p = npk_wildx_alloc(1);
        if (p == nullptr) FAIL("allocation " << i << " failed: " << NPK_LAST_ERROR());
        pages.push_back(p);
    }
    CHECK(w.delta() == Delta{.live_pages = static_cast<int64_t>(kPages),
                             .live_bytes = static_cast<int64_t>(kPages * pg),
                             .allocs = static_cast<int64_t>(kPages)});
    MapsReader maps;
    const size_t vmas = maps.read().size();
    CHECK(vmas < 10000);  // merged; one mapping each would be near the limit
    // The quota is exactly used up.
    npk_wildx_set_quiet(1);
    CHECK(npk_wildx_alloc(1) == nullptr);
    CHECK(npk_wildx_last_error() == NPK_WILDX_ERR_QUOTA);
    npk_wildx_set_quiet(0);
    // Seal every 7th page: RX pages split the merged mappings, still fine.
    for (size_t i = 0; i < kPages; i += 7) REQUIRE(npk_wildx_seal(pages[i]) == 0);
    for (size_t i = 0; i < kPages; ++i) {
        if (npk_wildx_state(pages[i]) != (i % 7 == 0 ? NPK_WILDX_EXECUTABLE : NPK_WILDX_WRITABLE)) {
            FAIL("page " << i << " in the wrong state");
        }
    }
    for (void* p : pages) {
        if (npk_wildx_free(p) != 0) FAIL("free failed: " << NPK_LAST_ERROR());
    }
    CHECK(w.delta() == Delta{.allocs = static_cast<int64_t>(kPages),
                             .seals = static_cast<int64_t>((kPages + 6) / 7),
                             .frees = static_cast<int64_t>(kPages),
                             .rejections = 1});
    WARN("60000 live pages took " << vmas << " mappings");
}
