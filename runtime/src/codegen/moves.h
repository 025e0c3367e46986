// moves.h — a parallel move between registers of one class (private):
// every dst[i] receives the value src[i] had before any of the moves, as
// parameters arriving and arguments leaving need it.
#pragma once

#include <cstdint>

namespace npk::codegen {

struct RegMove {
    int8_t dst, src;
};

// Emits the moves of m[0..n) (n <= 16) with mov(dst, src), breaking
// cycles through `scratch` (a register no move names).
template <class Mov>
void parallel_move(RegMove* m, int n, int scratch, Mov&& mov) {
    int k = 0;
    for (int i = 0; i < n; ++i) {
        if (m[i].dst != m[i].src) m[k++] = m[i];
    }
    n = k;
    while (n > 0) {
        int ready = -1;
        for (int i = 0; i < n && ready < 0; ++i) {
            bool read_later = false;
            for (int j = 0; j < n; ++j) read_later |= j != i && m[j].src == m[i].dst;
            if (!read_later) ready = i;
        }
        if (ready < 0) {  // only cycles left: park one destination's value
            const int8_t d = m[0].dst;
            mov(scratch, d);
            for (int j = 0; j < n; ++j) {
                if (m[j].src == d) m[j].src = static_cast<int8_t>(scratch);
            }
            ready = 0;
        }
        mov(m[ready].dst, m[ready].src);
        m[ready] = m[--n];
    }
}

}  // namespace npk::codegen
