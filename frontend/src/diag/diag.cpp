#include "diag/diag.h"

#include "diag/columns.h"

#include <algorithm>
#include <cassert>
#include <ostream>

namespace npk {

uint32_t SourceManager::add(std::string path, std::string canonical, std::string text) {
    SourceFile f;
    f.path = std::move(path);
    f.canonical = std::move(canonical);
    f.text = std::move(text);
    f.line_starts.push_back(0);
    for (uint32_t i = 0; i < f.text.size(); ++i)
        if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
    files_.push_back(std::move(f));
    return static_cast<uint32_t>(files_.size());
}

const SourceFile& SourceManager::file(uint32_t id) const {
    assert(id >= 1 && id <= files_.size());
    return files_[id - 1];
}

std::string_view SourceManager::line_text(uint32_t id, uint32_t line) const {
    if (id == 0 || id > files_.size()) return {};
    const SourceFile& f = files_[id - 1];
    if (line == 0 || line > f.line_starts.size()) return {};
    uint32_t begin = f.line_starts[line - 1];
    uint32_t end = line < f.line_starts.size() ? f.line_starts[line] : static_cast<uint32_t>(f.text.size());
    std::string_view s(f.text.data() + begin, end - begin);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

Loc SourceManager::loc_at(uint32_t id, uint32_t offset) const {
    const SourceFile& f = file(id);
    auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
    uint32_t line = static_cast<uint32_t>(it - f.line_starts.begin());
    const uint32_t start = f.line_starts[line - 1];
    const uint32_t col = advance_column(1, std::string_view(f.text).substr(start, offset - start));
    return Loc{id, line, col, offset};
}

void Diagnostics::add(Diagnostic d) {
    if (d.severity == Severity::Error || d.severity == Severity::RuntimeError) ++errors_;
    if (d.severity == Severity::Warning) ++warnings_;
    list_.push_back(std::move(d));
    if (stream_) print(*stream_, stream_color_);
}

void Diagnostics::error(Loc loc, std::string code, std::string message) {
    add({Severity::Error, loc, std::move(code), std::move(message)});
}

void Diagnostics::warning(Loc loc, std::string code, std::string message) {
    add({Severity::Warning, loc, std::move(code), std::move(message)});
}

void Diagnostics::note(Loc loc, std::string message) {
    add({Severity::Note, loc, {}, std::move(message)});
}

void Diagnostics::runtime_error(Loc loc, std::string message) {
    add({Severity::RuntimeError, loc, {}, std::move(message)});
}

void Diagnostics::stream_to(std::ostream* out, bool color) {
    stream_ = out;
    stream_color_ = color;
    if (stream_) print(*stream_, stream_color_);
}

static const char* severity_word(Severity s) {
    switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
    case Severity::RuntimeError: return "runtime error";
    }
    return "error";
}

std::string Diagnostics::format_line(const Diagnostic& d) const {
    std::string out;
    if (d.loc.file != 0 && d.loc.file <= sources_.size()) {
        out += sources_.file(d.loc.file).path;
        out += ':' + std::to_string(d.loc.line) + ':' + std::to_string(d.loc.col) + ": ";
    } else {
        out += "npk: ";
    }
    out += severity_word(d.severity);
    out += ": ";
    if (!d.code.empty()) out += "[" + d.code + "] ";
    out += d.message;
    return out;
}

void Diagnostics::print(std::ostream& out, bool color) {
    for (; printed_ < list_.size(); ++printed_) print_one(out, list_[printed_], color);
    out.flush();
}

void Diagnostics::print_one(std::ostream& out, const Diagnostic& d, bool color) const {
    std::string line = format_line(d);
    if (color) {
        const char* c = d.severity == Severity::Warning ? "\x1b[1;35m"
                      : d.severity == Severity::Note ? "\x1b[1;36m" : "\x1b[1;31m";
        out << c << line << "\x1b[0m\n";
    } else {
        out << line << '\n';
    }
    // The source line and a caret, for errors and warnings with a position.
    if (d.severity != Severity::Note && d.loc.file != 0 && d.loc.line != 0) print_source(out, d.loc);
}

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

// A long line is cut to a window around the caret, marked with "..." at
// each cut, as clang and rustc do: a 2 MB one-line file must not echo
// 2 MB per diagnostic.
void Diagnostics::print_source(std::ostream& out, Loc loc) const {
    std::string_view src = sources_.line_text(loc.file, loc.line);
    if (src.empty()) return;
    const uint32_t start = sources_.file(loc.file).line_starts[loc.line - 1];
    const size_t caret = std::min<size_t>(loc.offset >= start ? loc.offset - start : 0, src.size());
    size_t begin = 0, end = src.size();
    if (src.size() > kMaxEchoBytes) {
        begin = caret > kMaxEchoBytes / 2 ? caret - kMaxEchoBytes / 2 : 0;
        end = std::min(src.size(), begin + kMaxEchoBytes);
        begin = end - begin < kMaxEchoBytes && end > kMaxEchoBytes ? end - kMaxEchoBytes : begin;
        while (begin > 0 && is_continuation(src[begin])) --begin;   // whole characters only
        while (end < src.size() && is_continuation(src[end])) ++end;
    }
    const char* more = "...";
    out << "    " << (begin > 0 ? more : "") << src.substr(begin, end - begin) << (end < src.size() ? more : "")
        << "\n    " << (begin > 0 ? "   " : "");
    // Up to the caret, each character's display width in spaces; a tab
    // stays a tab, so the terminal expands it as it did in the line.
    std::string_view before = src.substr(begin, caret - begin);
    for (size_t i = 0; i < before.size();) {
        if (before[i] == '\t') {
            out << '\t';
            ++i;
            continue;
        }
        out << std::string(codepoint_width(next_codepoint(before, i)), ' ');
    }
    out << "^\n";
}

}  // namespace npk
