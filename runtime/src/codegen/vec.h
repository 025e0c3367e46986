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
    void pop() { --size_; }

private:
    T* data_ = nullptr;
    size_t size_ = 0;
    size_t cap_ = 0;
};

}  // namespace npk::codegen
