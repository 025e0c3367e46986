// PMap<V>: a persistent (immutable, structurally shared) map from
// uint32_t keys to V, for the states of the dataflow analyses
// (analysis/dataflow.h).
//
// Why: an analysis state is copied at every basic block of a control-flow
// graph and joined wherever paths meet. With a std::map both cost the size
// of the state, so checking a function with 100k pointers, each followed
// by an `if`, is quadratic. Here a copy shares the root (O(1)), an update
// copies one root-to-leaf path, and join_with walks both maps in lockstep,
// skipping every subtree that is the same node in both: it costs what
// differs between the two states, not their size.
//
// Shape: a radix trie on the key bits, 4 bits a level, 8 levels (the
// root holds bits 31..28, a leaf bits 3..0 and the values). A key always
// sits at the same place, so two versions of a map have the same shape
// wherever they hold the same keys; that is what lets join and == compare
// node against node. A node keeps a 16-bit bitmap of its present slots and
// only those slots, packed. Nodes are never changed once built; they carry
// an intrusive, non-atomic reference count (single-threaded use) and are
// freed, with their children, when it drops to zero. Depth is 8, so the
// recursion on release and join is bounded.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace npk {

template <class V>  // V: copyable, has operator==
class PMap {
public:
    PMap() = default;
    PMap(const PMap& o) : root_(o.root_), size_(o.size_) { retain(root_); }
    PMap(PMap&& o) noexcept : root_(o.root_), size_(o.size_) {
        o.root_ = nullptr;
        o.size_ = 0;
    }
    PMap& operator=(const PMap& o) {
        retain(o.root_);
        release(root_, 0);
        root_ = o.root_;
        size_ = o.size_;
        return *this;
    }
    PMap& operator=(PMap&& o) noexcept {
        if (this != &o) {
            release(root_, 0);
            root_ = std::exchange(o.root_, nullptr);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }
    ~PMap() { release(root_, 0); }

    // nullptr if absent.
    const V* find(uint32_t k) const {
        const Node* n = root_;
        for (int level = 0; n != nullptr; ++level) {
            unsigned i = digit(k, level);
            if (!has(n, i)) return nullptr;
            if (level == kLeaf) return &vals(n)[slot(n, i)];
            n = kids(n)[slot(n, i)];
        }
        return nullptr;
    }

    // Copies the path to k; if k already maps to an equal value, nothing
    // changes and the map keeps sharing its nodes.
    void set(uint32_t k, V v) {
        const V* old = find(k);
        if (old != nullptr && *old == v) return;
        Node* n = set_rec(root_, 0, k, v);
        release(root_, 0);
        root_ = n;
        if (old == nullptr) ++size_;
    }

    // No-op if absent.
    void erase(uint32_t k) {
        if (find(k) == nullptr) return;
        Node* n = erase_rec(root_, 0, k);
        release(root_, 0);
        root_ = n;
        --size_;
    }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    // f(uint32_t key, const V&) for every entry, ascending keys.
    template <class F>
    void for_each(F&& f) const {
        each_rec(root_, 0, 0, 0, UINT64_C(1) << 32, f);
    }

    // f(key, value) for the keys in [lo, hi), ascending; visits only the
    // subtrees that overlap the range.
    template <class F>
    void for_each_in(uint32_t lo, uint32_t hi, F&& f) const {
        if (lo < hi) each_rec(root_, 0, 0, lo, hi, f);
    }

    // Join: for every key where *this and `from` differ (present in one
    // only, or values not ==), calls merge(key, const V* mine, const V*
    // theirs) -> std::optional<V> (a pointer is null where the key is
    // absent) and stores the result here (nullopt: erase). Subtrees that
    // are the same node in both are skipped unvisited. A rebuilt node that
    // comes out equal to `from`'s is replaced by `from`'s, so later joins
    // and == find more shared nodes. Returns whether *this changed.
    template <class M>
    bool join_with(const PMap& from, M&& merge) {
        if (root_ == from.root_) return false;
        ptrdiff_t delta = 0;
        Node* n = join_rec(root_, from.root_, 0, 0, merge, delta);
        if (n == root_) return false;
        release(root_, 0);
        root_ = n;
        size_ = static_cast<size_t>(static_cast<ptrdiff_t>(size_) + delta);
        return true;
    }

    // Pointer-equal roots short-circuit, as do pointer-equal subtrees;
    // otherwise compares contents.
    bool operator==(const PMap& o) const {
        return root_ == o.root_ || (size_ == o.size_ && equal_rec(root_, o.root_, 0));
    }

private:
    static_assert(alignof(V) <= alignof(std::max_align_t), "over-aligned values are not supported");

    struct Node {
        uint32_t rc;    // references from maps and parent nodes
        uint16_t bits;  // bit i: slot for digit i is present
    };

    static constexpr int kBits = 4;
    static constexpr int kLeaf = 32 / kBits - 1;  // the level holding values
    static constexpr unsigned kFan = 1u << kBits;

    // Children or values follow the header, packed in digit order.
    template <class T>
    static constexpr size_t kOffset = (sizeof(Node) + alignof(T) - 1) / alignof(T) * alignof(T);

    static unsigned shift(int level) { return static_cast<unsigned>((kLeaf - level) * kBits); }
    static unsigned digit(uint32_t k, int level) { return (k >> shift(level)) & (kFan - 1); }
    static bool has(const Node* n, unsigned i) { return (n->bits >> i) & 1u; }
    static unsigned slot(const Node* n, unsigned i) {
        return static_cast<unsigned>(std::popcount(static_cast<unsigned>(n->bits) & ((1u << i) - 1)));
    }
    static unsigned count(const Node* n) { return static_cast<unsigned>(std::popcount(n->bits)); }
    static Node** kids(const Node* n) {
        return reinterpret_cast<Node**>(reinterpret_cast<char*>(const_cast<Node*>(n)) + kOffset<Node*>);
    }
    static V* vals(const Node* n) {
        return std::launder(reinterpret_cast<V*>(reinterpret_cast<char*>(const_cast<Node*>(n)) + kOffset<V>));
    }

    static Node* alloc(int level, uint16_t bits) {
        size_t elem = level == kLeaf ? sizeof(V) : sizeof(Node*);
        size_t off = level == kLeaf ? kOffset<V> : kOffset<Node*>;
        void* p = ::operator new(off + elem * static_cast<size_t>(std::popcount(bits)));
        return new (p) Node{1, bits};
    }
    static void retain(Node* n) {
        if (n != nullptr) ++n->rc;
    }
    static void release(Node* n, int level) {
        if (n == nullptr || --n->rc != 0) return;
        unsigned c = count(n);
        if (level == kLeaf) {
            for (unsigned s = 0; s < c; ++s) vals(n)[s].~V();
        } else {
            for (unsigned s = 0; s < c; ++s) release(kids(n)[s], level + 1);
        }
        n->~Node();
        ::operator delete(n);
    }

    // Changes to one node: slots to drop, and slots to (re)place. An
    // inner node's new children arrive owned (one reference each); if
    // building throws, the guard gives those references back.
    struct KidEdits {
        uint16_t del = 0, put = 0;
        Node* kid[kFan] = {};
        int level = 0;  // the children's level
        ~KidEdits() {
            for (unsigned i = 0; i < kFan; ++i)
                if ((put >> i) & 1u) release(kid[i], level);
        }
    };
    struct ValEdits {
        uint16_t del = 0, put = 0;
        std::optional<V> val[kFan];
    };

    // A copy of inner node `old` (null: none) with the edits applied; null
    // if nothing is left. Takes over the edits' references.
    static Node* rebuild(const Node* old, KidEdits& e, int level) {
        uint16_t oldbits = old != nullptr ? old->bits : 0;
        auto bits = static_cast<uint16_t>((oldbits | e.put) & ~e.del);
        if (bits == 0) return nullptr;
        Node* n = alloc(level, bits);
        Node** out = kids(n);
        for (unsigned i = 0; i < kFan; ++i) {
            if (!((bits >> i) & 1u)) continue;
            if ((e.put >> i) & 1u) {
                *out++ = e.kid[i];
            } else {
                Node* k = kids(old)[slot(old, i)];
                retain(k);
                *out++ = k;
            }
        }
        e.put = 0;  // references handed over
        return n;
    }

    // A copy of leaf `old` (null: none) with the edits applied; null if
    // nothing is left.
    static Node* rebuild(const Node* old, ValEdits& e) {
        uint16_t oldbits = old != nullptr ? old->bits : 0;
        auto bits = static_cast<uint16_t>((oldbits | e.put) & ~e.del);
        if (bits == 0) return nullptr;
        Node* n = alloc(kLeaf, bits);
        V* out = vals(n);
        unsigned built = 0;
        try {
            for (unsigned i = 0; i < kFan; ++i) {
                if (!((bits >> i) & 1u)) continue;
                if ((e.put >> i) & 1u) {
                    new (out + built) V(std::move(*e.val[i]));
                } else {
                    new (out + built) V(vals(old)[slot(old, i)]);
                }
                ++built;
            }
        } catch (...) {
            n->bits = 0;
            for (unsigned s = 0; s < built; ++s) out[s].~V();
            ::operator delete(n);
            throw;
        }
        return n;
    }

    static Node* set_rec(const Node* n, int level, uint32_t k, V& v) {
        unsigned i = digit(k, level);
        if (level == kLeaf) {
            ValEdits e;
            e.put = static_cast<uint16_t>(1u << i);
            e.val[i].emplace(std::move(v));
            return rebuild(n, e);
        }
        const Node* child = n != nullptr && has(n, i) ? kids(n)[slot(n, i)] : nullptr;
        KidEdits e;
        e.level = level + 1;
        e.kid[i] = set_rec(child, level + 1, k, v);
        e.put = static_cast<uint16_t>(1u << i);
        return rebuild(n, e, level);
    }

    // k is present under n.
    static Node* erase_rec(const Node* n, int level, uint32_t k) {
        unsigned i = digit(k, level);
        if (level == kLeaf) {
            ValEdits e;
            e.del = static_cast<uint16_t>(1u << i);
            return rebuild(n, e);
        }
        KidEdits e;
        e.level = level + 1;
        Node* child = erase_rec(kids(n)[slot(n, i)], level + 1, k);
        if (child == nullptr) {
            e.del = static_cast<uint16_t>(1u << i);
        } else {
            e.kid[i] = child;
            e.put = static_cast<uint16_t>(1u << i);
        }
        return rebuild(n, e, level);
    }

    // Entries of n (whose keys start at `base`) with keys in [lo, hi).
    template <class F>
    static void each_rec(const Node* n, int level, uint64_t base, uint64_t lo, uint64_t hi, F& f) {
        if (n == nullptr) return;
        uint64_t span = uint64_t{1} << shift(level);  // keys under one slot
        unsigned s = 0;
        for (unsigned i = 0; i < kFan; ++i) {
            if (!has(n, i)) continue;
            uint64_t first = base + i * span;
            unsigned at = s++;
            if (first + span <= lo) continue;
            if (first >= hi) return;
            if (level == kLeaf) {
                f(static_cast<uint32_t>(first), static_cast<const V&>(vals(n)[at]));
            } else {
                each_rec(kids(n)[at], level + 1, first, lo, hi, f);
            }
        }
    }

    static bool equal_rec(const Node* a, const Node* b, int level) {
        if (a == b) return true;
        if (a == nullptr || b == nullptr || a->bits != b->bits) return false;
        unsigned c = count(a);
        for (unsigned s = 0; s < c; ++s) {
            bool same = level == kLeaf ? vals(a)[s] == vals(b)[s] : equal_rec(kids(a)[s], kids(b)[s], level + 1);
            if (!same) return false;
        }
        return true;
    }

    // `built` (a fresh node) if it differs from b, else b with one more
    // reference: the join's result then shares `from`'s node.
    static Node* prefer_theirs(Node* built, const Node* b, int level) {
        if (built == nullptr || b == nullptr || built->bits != b->bits) return built;
        unsigned c = count(b);
        for (unsigned s = 0; s < c; ++s) {
            bool same = level == kLeaf ? vals(built)[s] == vals(b)[s] : kids(built)[s] == kids(b)[s];
            if (!same) return built;
        }
        release(built, level);
        Node* shared = const_cast<Node*>(b);
        retain(shared);
        return shared;
    }

    // The join of a and b (keys starting at `base`): a itself, unowned, if
    // nothing changes; else a node with one reference for the caller (or
    // null: all erased). delta gains the change in entry count.
    template <class M>
    static Node* join_rec(Node* a, const Node* b, int level, uint32_t base, M& merge, ptrdiff_t& delta) {
        uint16_t bits = static_cast<uint16_t>((a != nullptr ? a->bits : 0) | (b != nullptr ? b->bits : 0));
        if (level == kLeaf) return join_leaf(a, b, bits, base, merge, delta);
        KidEdits e;
        e.level = level + 1;
        for (unsigned i = 0; i < kFan; ++i) {
            if (!((bits >> i) & 1u)) continue;
            Node* ka = a != nullptr && has(a, i) ? kids(a)[slot(a, i)] : nullptr;
            const Node* kb = b != nullptr && has(b, i) ? kids(b)[slot(b, i)] : nullptr;
            if (ka == kb) continue;
            uint32_t kbase = base | (i << shift(level));
            Node* r = join_rec(ka, kb, level + 1, kbase, merge, delta);
            if (r == ka) continue;
            if (r == nullptr) {
                e.del = static_cast<uint16_t>(e.del | (1u << i));
            } else {
                e.kid[i] = r;
                e.put = static_cast<uint16_t>(e.put | (1u << i));
            }
        }
        if (e.del == 0 && e.put == 0) return a;
        return prefer_theirs(rebuild(a, e, level), b, level);
    }

    template <class M>
    static Node* join_leaf(Node* a, const Node* b, uint16_t bits, uint32_t base, M& merge, ptrdiff_t& delta) {
        ValEdits e;
        for (unsigned i = 0; i < kFan; ++i) {
            if (!((bits >> i) & 1u)) continue;
            const V* mine = a != nullptr && has(a, i) ? &vals(a)[slot(a, i)] : nullptr;
            const V* theirs = b != nullptr && has(b, i) ? &vals(b)[slot(b, i)] : nullptr;
            if (mine != nullptr && theirs != nullptr && *mine == *theirs) continue;
            std::optional<V> r = merge(static_cast<uint32_t>(base | i), mine, theirs);
            if (!r) {
                if (mine != nullptr) {
                    e.del = static_cast<uint16_t>(e.del | (1u << i));
                    --delta;
                }
            } else if (mine == nullptr || !(*r == *mine)) {
                if (mine == nullptr) ++delta;
                e.val[i] = std::move(r);
                e.put = static_cast<uint16_t>(e.put | (1u << i));
            }
        }
        if (e.del == 0 && e.put == 0) return a;
        return prefer_theirs(rebuild(a, e), b, kLeaf);
    }

    Node* root_ = nullptr;
    size_t size_ = 0;
};

}  // namespace npk
