// The state a flow analysis carries through a function body, with an
// undo journal: forking it (an `if` arm, a defer body, the right side of
// `&&`) costs what the fork changes, never the number of entries, so a
// body of 40,000 bindings each followed by an `if` stays linear.
//
// Entries are values of type V (one per tracked thing: a heap block for
// the lifecycle analysis). Reads go through get(), writes through set(),
// which records the old value in the innermost open journal;
// isolated(f) runs f in a journal of its own and hands back what f
// changed (before and after), with the state put back as it was.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <utility>
#include <vector>

namespace npk {

template <class V>
class FlowState {
public:
    struct Delta {
        std::vector<std::pair<uint32_t, V>> before, after;  // same entries, same order
        bool reachable = true;
    };

    bool reachable = true;   // false after a statement that leaves

    uint32_t add(const V& v) {
        const auto i = static_cast<uint32_t>(vals_.size());
        vals_.push_back(V{});
        set(i) = v;
        return i;
    }
    const V& get(uint32_t i) const { return vals_[i]; }
    V& set(uint32_t i) {
        if (!journals_.empty()) {
            Journal& j = journals_.back();
            if (j.seen.insert(i).second) j.old.emplace_back(i, vals_[i]);
        }
        return vals_[i];
    }

    // Runs f on the current state; returns what it changed and restores
    // the state (reachability included) from before.
    template <class F>
    Delta isolated(F&& f) {
        const bool was_reachable = reachable;
        journals_.emplace_back();
        f();
        Journal j = std::move(journals_.back());
        journals_.pop_back();
        Delta d;
        d.reachable = reachable;
        for (auto& [i, old] : j.old) {
            d.after.emplace_back(i, vals_[i]);
            vals_[i] = old;   // back to the value at the fork: the outer journal is not concerned
            d.before.emplace_back(i, std::move(old));
        }
        reachable = was_reachable;
        return d;
    }

    // Makes the changes of `d` (journaled) and takes its reachability.
    void apply(const Delta& d) {
        for (const auto& [i, v] : d.after) set(i) = v;
        reachable = d.reachable;
    }

private:
    struct Journal {
        std::vector<std::pair<uint32_t, V>> old;
        std::unordered_set<uint32_t> seen;
    };
    std::vector<V> vals_;
    std::vector<Journal> journals_;
};

}  // namespace npk
