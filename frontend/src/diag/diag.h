// Source files and diagnostics: the one message shape of every phase.
//
//   FILE:LINE:COL: error: [ARIA-022] Double free of variable 'p' (already freed)
//       wildx_free(p);
//       ^
//   FILE:LINE:COL: note: first freed here
//
// Every phase reports through a Diagnostics and keeps going; the driver
// asks error_count() between phases and runs nothing after an error.
// Diagnostics::print is the only place npk writes one.
//
// Wording: an error or warning message is a sentence that starts with a
// capital letter or with a quoted piece of source ('raw' argument must
// be ...); a note continues the story in lower case ("first freed here").
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace npk {

// A position in a loaded file. Lines and columns count from 1; a
// default-constructed Loc (file 0, line 0) means "no position".
struct Loc {
    uint32_t file = 0;   // index into SourceManager, 1-based; 0 = none
    uint32_t line = 0;
    uint32_t col = 0;
    uint32_t offset = 0; // byte offset in the file's text
};

struct SourceFile {
    std::string path;       // as given or as resolved (printed in messages)
    std::string canonical;  // canonical path, to load each file once
    std::string text;
    std::vector<uint32_t> line_starts;  // byte offset of each line
};

class SourceManager {
public:
    // Adds a file with the given text and returns its id (>= 1).
    uint32_t add(std::string path, std::string canonical, std::string text);
    const SourceFile& file(uint32_t id) const;
    size_t size() const { return files_.size(); }
    // The text of line `line` of `file`, without its end of line.
    std::string_view line_text(uint32_t file, uint32_t line) const;
    // Line and column of a byte offset.
    Loc loc_at(uint32_t file, uint32_t offset) const;

private:
    std::vector<SourceFile> files_;
};

// RuntimeError: a fault `npk run` detects in the running program
// ("FILE:L:C: runtime error: division by zero"); it counts as an error.
enum class Severity { Error, Warning, Note, RuntimeError };

struct Diagnostic {
    Severity severity = Severity::Error;
    Loc loc;
    std::string code;     // "ARIA-022", or empty
    std::string message;
};

class Diagnostics {
public:
    explicit Diagnostics(const SourceManager& sources) : sources_(sources) {}

    // `code` is an ARIA code ("ARIA-014") or empty.
    void error(Loc loc, std::string code, std::string message);
    void warning(Loc loc, std::string code, std::string message);
    // A note belongs to the error or warning reported just before it.
    void note(Loc loc, std::string message);
    void runtime_error(Loc loc, std::string message);

    // From now on, write each diagnostic to `out` as soon as it is
    // reported (npk run: a fault is printed when it happens, before
    // failsafe runs), after any not printed yet. nullptr: collect only.
    void stream_to(std::ostream* out, bool color);

    size_t error_count() const { return errors_; }
    size_t warning_count() const { return warnings_; }
    const std::vector<Diagnostic>& all() const { return list_; }

    // Writes every diagnostic not written yet, in order, in the shape
    // above. Colour only when `color` is true (the driver passes
    // isatty(stderr)). The only place npk writes a diagnostic.
    void print(std::ostream& out, bool color = false);
    // One diagnostic as text, without source line or colour (for tests).
    std::string format_line(const Diagnostic& d) const;

private:
    // Longest source line echoed whole; a longer one is cut around the caret.
    static constexpr size_t kMaxEchoBytes = 120;

    void add(Diagnostic d);
    void print_one(std::ostream& out, const Diagnostic& d, bool color) const;
    void print_source(std::ostream& out, Loc loc) const;

    const SourceManager& sources_;
    std::vector<Diagnostic> list_;
    size_t printed_ = 0;              // list_[0, printed_) are written
    std::ostream* stream_ = nullptr;
    bool stream_color_ = false;
    size_t errors_ = 0;
    size_t warnings_ = 0;
};

}  // namespace npk
