// vec.h — a growable array on malloc / realloc (private).
//
// The runtime is built without exceptions and never lets an allocation
// failure escape as an abort: push() says false and the caller reports
// NPK_ERR_OUT_OF_MEMORY. Only for trivially copyable elements.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace npk::codegen {

template <class T>
class Vec {
    static_assert(std::is_trivially_copyable_v<T>, "Vec moves its elements with realloc");

public:
    Vec() = default;
    Vec(const Vec&) = delete;
    Vec& operator=(const Vec&) = delete;
    ~Vec() { std::free(data_); }

    size_t size() const { return size_; }
    size_t capacity() const { return cap_; }
    bool empty() const { return size_ == 0; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }
    T& back() { return data_[size_ - 1]; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }

    [[nodiscard]] bool reserve(size_t n) {
        if (n <= cap_) return true;
        size_t c = cap_ ? cap_ : 8;
        while (c < n) c *= 2;
        void* p = std::realloc(data_, c * sizeof(T));
        if (p == nullptr) return false;
        data_ = static_cast<T*>(p);
        cap_ = c;
        return true;
    }
    // Whether push() has room without growing.
    bool has_room() const { return size_ < cap_; }
    // A new last element, uninitialised, where has_room() said so.
    T& push_slot() { return data_[size_++]; }
    [[nodiscard]] bool push(const T& v) {
        if (size_ == cap_ && !reserve(size_ + 1)) return false;
        std::memcpy(static_cast<void*>(data_ + size_), &v, sizeof(T));
        ++size_;
        return true;
    }
    // Gives the buffer to the caller (who frees it with std::free).
    T* release() {
        T* p = data_;
        data_ = nullptr;
        size_ = cap_ = 0;
        return p;
    }
    void clear() { size_ = 0; }
    // n copies of x, keeping the buffer (no shrink). False when memory runs out.
    [[nodiscard]] bool assign(size_t n, const T& x) {
        const T v = x;  // copies, so that neither x nor data_ may change under the loop: it vectorises
        if (!reserve(n)) return false;
        T* const d = data_;
        for (size_t i = 0; i < n; ++i) d[i] = v;
        size_ = n;
        return true;
    }
    void pop() { --size_; }
    // n elements, the new ones uninitialised. False when memory runs out.
    [[nodiscard]] bool resize(size_t n) {
        if (!reserve(n)) return false;
        size_ = n;
        return true;
    }

private:
    T* data_ = nullptr;
    size_t size_ = 0;
    size_t cap_ = 0;
};

}  // namespace npk::codegen
