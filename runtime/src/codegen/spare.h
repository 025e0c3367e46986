// One object a thread keeps after it is finished with it, to hand out
// again to its next user (warm in the cache, its buffers already grown):
// the builder's record (builder.cpp) and the compiler's CodeHolder
// (compile.cpp). Objects are placement-new'd into calloc'd memory; the
// one still parked when the thread ends is destroyed and freed then.
#pragma once

#include <cstdlib>

namespace npk::codegen {

template <class T>
class ThreadSpare {
public:
    ThreadSpare() = default;
    ThreadSpare(const ThreadSpare&) = delete;
    ThreadSpare& operator=(const ThreadSpare&) = delete;
    ~ThreadSpare() {
        if (p_ == nullptr) return;
        p_->~T();
        std::free(p_);
    }

    bool empty() const { return p_ == nullptr; }
    // The parked object (the caller resets what it needs), or nullptr.
    T* take() {
        T* p = p_;
        p_ = nullptr;
        return p;
    }
    // Parks `p` when the slot is free; false (nothing done) otherwise.
    bool park(T* p) {
        if (p_ != nullptr) return false;
        p_ = p;
        return true;
    }

private:
    T* p_ = nullptr;
};

}  // namespace npk::codegen
