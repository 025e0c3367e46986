// sync.h — a mutex and a condition variable over pthreads (private).
//
// The runtime avoids std::mutex and friends so that libnpkjit needs no C++
// runtime: a C program (or an npkc-built one) links libnpkjit.a with a C
// linker and -pthread. Both are constant-initialized, so they work before
// any static constructor has run, and are never destroyed.
#pragma once

#include <pthread.h>

namespace npk {

class Mutex {
public:
    constexpr Mutex() = default;
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;
    void lock() { pthread_mutex_lock(&m_); }
    void unlock() { pthread_mutex_unlock(&m_); }
    // In a forked child only, on a mutex the forking thread held: the
    // child's copy must not carry the parent's owner along.
    void reset_after_fork() { pthread_mutex_init(&m_, nullptr); }

private:
    friend class CondVar;
    pthread_mutex_t m_ = PTHREAD_MUTEX_INITIALIZER;
};

// Holds a Mutex for its scope; unlock() may end that early.
class Lock {
public:
    explicit Lock(Mutex& m) : m_(&m) { m_->lock(); }
    ~Lock() {
        if (m_ != nullptr) m_->unlock();
    }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    void unlock() {
        m_->unlock();
        m_ = nullptr;
    }

private:
    friend class CondVar;
    Mutex* m_;
};

class CondVar {
public:
    constexpr CondVar() = default;
    CondVar(const CondVar&) = delete;
    CondVar& operator=(const CondVar&) = delete;
    void wait(Lock& held) { pthread_cond_wait(&c_, &held.m_->m_); }
    void wait(Mutex& held) { pthread_cond_wait(&c_, &held.m_); }
    void notify_all() { pthread_cond_broadcast(&c_); }
    // In a forked child only: waiters of the parent's other threads do not
    // exist there, and a broadcast would wait for them to leave.
    void reset_after_fork() { pthread_cond_init(&c_, nullptr); }

private:
    pthread_cond_t c_ = PTHREAD_COND_INITIALIZER;
};

}  // namespace npk
