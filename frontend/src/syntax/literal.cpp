#include "syntax/literal.h"

namespace npk {

namespace {

// Largest magnitudes allowed, positive and negative.
struct Range {
    uint64_t pos = UINT64_MAX, neg = UINT64_MAX;
};

Range range_of(IntFamily family, uint32_t bits) {
    if (bits == 0 || bits > 64) return {};
    const uint64_t half = bits == 64 ? uint64_t{INT64_MAX} : (uint64_t{1} << (bits - 1)) - 1;
    switch (family) {
    case IntFamily::Int: return {half, half + 1};
    case IntFamily::UInt: return {bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1, 0};
    case IntFamily::Tbb: return {half, half};
    }
    return {};
}

}  // namespace

bool int_literal_fits(uint64_t magnitude, bool negative, IntFamily family, uint32_t bits) {
    Range r = range_of(family, bits);
    return negative && magnitude != 0 ? magnitude <= r.neg : magnitude <= r.pos;
}

std::string int_type_name(IntFamily family, uint32_t bits) {
    const char* f = family == IntFamily::Int ? "int" : family == IntFamily::UInt ? "uint" : "tbb";
    return f + std::to_string(bits);
}

std::string int_literal_misfit(std::string_view written, IntFamily family, uint32_t bits) {
    Range r = range_of(family, bits);
    std::string low = r.neg == 0 ? "0" : "-" + std::to_string(r.neg);
    return "Integer literal " + std::string(written) + " does not fit in " + int_type_name(family, bits) +
           " (" + low + " to " + std::to_string(r.pos) + ")";
}

}  // namespace npk
