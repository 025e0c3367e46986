// os.h — the one facade over the OS's virtual-memory calls (private).
//
// os.cpp is the only file of the runtime that calls mmap, mprotect or
// munmap (and membarrier, should it ever be needed). Every function here
// returns a Status: 0 on success, or the errno value and the name of the
// call that failed, so that the caller can report it through the one error
// path (core/errors.cpp). Nothing here knows about the registry, the quota
// or the state machine; what depends on the CPU (the instruction cache)
// is in arch/arch.h.
#pragma once

#include <cstddef>

namespace npk::os {

struct Status {
    int err = 0;                 // errno of the failed call; 0 on success
    const char* call = nullptr;  // "mmap", "mprotect" or "munmap"
    explicit operator bool() const { return err != 0; }  // true on failure
};

// The OS page size, read once.
size_t page_size();

// A fresh anonymous private mapping of `len` bytes (a whole number of
// pages), read+write, zero-filled, placed by the kernel: no address hint,
// so that adjacent mappings with equal protection can merge into one VMA.
Status map_rw(size_t len, void** out);

// As map_rw, with an inaccessible (PROT_NONE) page right before and right
// after the `usable` bytes; *out is the start of the usable bytes. The
// whole span (usable + 2 pages) is what unmap must be given later.
Status map_guarded(size_t usable, void** out);

// Read+execute, never writable again (W^X: this is a flip, never an add).
Status protect_rx(void* p, size_t len);

// Unmaps [p, p + len).
Status unmap(void* p, size_t len);

// Maps the first `len` bytes of the open file `fd` read+execute, private:
// the marker perf needs to find a jitdump file (tools/perf.cpp). Nothing
// runs there and nothing writes it; the mapping is what `perf record`
// sees as an executable mmap event with the file's name. Not subject to
// the heap's fault seam: it is not heap memory.
Status map_file_rx(int fd, size_t len, void** out);

}  // namespace npk::os
