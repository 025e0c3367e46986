#include "driver/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "syntax/parser.h"

namespace fs = std::filesystem;

namespace npk {

// What a path names when it is not a regular file, or "" if it is one
// (or does not exist: the caller's own check says so).
static std::string not_a_file_reason(const struct stat& st) {
    if (S_ISDIR(st.st_mode)) return "Is a directory";
    if (S_ISFIFO(st.st_mode)) return "Is a FIFO (named pipe), not a regular file";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "Is a device, not a regular file";
    if (S_ISSOCK(st.st_mode)) return "Is a socket, not a regular file";
    if (!S_ISREG(st.st_mode)) return "Not a regular file";
    return "";
}

ReadStatus read_source_file(const std::string& path, std::string& text, std::string& error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int e = errno;
        error = std::strerror(e);
        return e == ENOENT || e == ENOTDIR ? ReadStatus::NotFound : ReadStatus::Unreadable;
    }
    if (std::string why = not_a_file_reason(st); !why.empty()) {
        error = why;
        return ReadStatus::NotAFile;
    }
    if (static_cast<unsigned long long>(st.st_size) > kMaxSourceBytes) {
        error = "File is too large (" + std::to_string(st.st_size) + " bytes; the limit is " +
                std::to_string(kMaxSourceBytes >> 20) + " MiB)";
        return ReadStatus::TooLarge;
    }
    // Never block on a FIFO or a device: the path may have been replaced
    // by one since the stat. O_NONBLOCK makes such an open return at
    // once, and fstat of what was opened has the last word.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = std::strerror(errno);
        return ReadStatus::Unreadable;
    }
    if (::fstat(fd, &st) != 0 || !not_a_file_reason(st).empty()) {
        error = not_a_file_reason(st).empty() ? std::strerror(errno) : not_a_file_reason(st);
        ::close(fd);
        return ReadStatus::NotAFile;
    }
    std::FILE* f = ::fdopen(fd, "rb");
    if (!f) {
        error = std::strerror(errno);
        ::close(fd);
        return ReadStatus::Unreadable;
    }
    text.clear();
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        text.append(buf, n);
        if (text.size() > kMaxSourceBytes) {
            std::fclose(f);
            error = "File is too large (the limit is " + std::to_string(kMaxSourceBytes >> 20) + " MiB)";
            return ReadStatus::TooLarge;
        }
    }
    bool failed = std::ferror(f) != 0;
    int e = errno;
    std::fclose(f);
    if (failed) {
        error = std::strerror(e);
        return ReadStatus::Unreadable;
    }
    return ReadStatus::Ok;
}

size_t find_invalid_utf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        unsigned char b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        uint32_t min;
        if ((b & 0xE0) == 0xC0) {
            len = 2; cp = b & 0x1Fu; min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3; cp = b & 0x0Fu; min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4; cp = b & 0x07u; min = 0x10000;
        } else {
            return i;  // a continuation byte without a lead, or 0xF8..0xFF
        }
        if (i + len > n) return i;
        for (size_t k = 1; k < len; ++k) {
            unsigned char c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (c & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return std::string_view::npos;
}

namespace {

// Import chains deeper than this are refused, so that loading recursion
// stays bounded whatever the files on disk say.
constexpr size_t kMaxImportDepth = 256;

bool has_source_extension(const std::string& p) {
    auto ends = [&](const char* ext) {
        size_t n = std::strlen(ext);
        return p.size() > n && p.compare(p.size() - n, n, ext) == 0;
    };
    return ends(".npk") || ends(".aria");
}

// "Is a directory" -> "is a directory", to go after a path.
std::string lower_first(std::string s) {
    if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
    return s;
}

std::vector<std::string> npk_path_entries() {
    std::vector<std::string> out;
    const char* env = std::getenv("NPK_PATH");
    if (!env) return out;
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
        size_t colon = s.find(':', start);
        if (colon == std::string::npos) colon = s.size();
        if (colon > start) out.push_back(s.substr(start, colon - start));
        start = colon + 1;
    }
    return out;
}

std::string canonical_of(const fs::path& p) {
    std::error_code ec;
    fs::path c = fs::canonical(p, ec);
    if (ec) c = fs::absolute(p, ec).lexically_normal();
    return c.string();
}

// Whether `p` is a regular file; if it exists but is something else
// (a folder, a FIFO, a device), why it cannot be read, in `why`.
bool is_regular(const fs::path& p, std::string& why) {
    why.clear();
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    why = not_a_file_reason(st);
    return why.empty();
}

// What a searched place holds under the name, for the message that lists
// them: "nothing of that name", "a directory", "a FIFO (named pipe)", ...
std::string what_is_at(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? "nothing of that name"
                                                   : std::string("an entry npk cannot stat (") + std::strerror(errno) + ")";
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
    if (S_ISSOCK(st.st_mode)) return "a socket";
    return S_ISREG(st.st_mode) ? "a regular file" : "something that is not a regular file";
}

class Loader {
public:
    Loader(const Options& opts, SourceManager& sources, ast::Program& out, Diagnostics& diag)
        : opts_(opts), sources_(sources), out_(out), diag_(diag), npk_path_(npk_path_entries()) {}

    // Adds a module for `display` (printed in messages) and loads it and,
    // depth first, everything it imports. Returns its index.
    uint32_t load(const std::string& display, const std::string& canonical, std::string text);

private:
    struct Found {
        bool ok = false;
        fs::path path;
        std::vector<std::string> searched;
        std::vector<std::string> holds;      // what each searched place holds under the name
        std::vector<std::string> unusable;   // "PATH is a directory", ...
    };
    Found resolve(const std::string& use_path, const fs::path& importing_dir) const;
    static std::string not_found_message(const std::string& use_path, const Found& f);
    void load_uses(uint32_t index);

    const Options& opts_;
    SourceManager& sources_;
    ast::Program& out_;
    Diagnostics& diag_;
    std::vector<std::string> npk_path_;
    std::unordered_map<std::string, uint32_t> by_canonical_;
    std::vector<uint32_t> stack_;  // modules being loaded, outermost first
};

uint32_t Loader::load(const std::string& display, const std::string& canonical, std::string text) {
    uint32_t index = static_cast<uint32_t>(out_.modules.size());
    out_.modules.push_back(std::make_unique<ast::Module>());
    ast::Module& mod = *out_.modules.back();
    mod.path = display;
    mod.is_root = index == 0;
    by_canonical_[canonical] = index;

    uint32_t file = sources_.add(display, canonical, std::move(text));
    mod.file = file;
    const std::string& body = sources_.file(file).text;
    size_t bad = find_invalid_utf8(body);
    if (bad != std::string_view::npos) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "Invalid UTF-8 (byte 0x%02X): source files must be UTF-8 text",
                      static_cast<unsigned>(static_cast<unsigned char>(body[bad])));
        diag_.error(sources_.loc_at(file, static_cast<uint32_t>(bad)), "", buf);
        return index;
    }
    parse_module(sources_, file, out_, mod, diag_);
    stack_.push_back(index);
    load_uses(index);
    stack_.pop_back();
    return index;
}

void Loader::load_uses(uint32_t index) {
    // `mod` stays valid: modules are held by unique_ptr.
    ast::Module& mod = *out_.modules[index];
    fs::path dir = fs::path(mod.path).parent_path();
    for (ast::UseDecl& use : mod.uses) {
        if (use.path.empty()) continue;  // reported by the parser
        if (!has_source_extension(use.path)) {
            diag_.error(use.loc, "", "'use' must name a .npk (or .aria) file, not '" + use.path + "'");
            continue;
        }
        Found found = resolve(use.path, dir);
        if (!found.ok) {
            diag_.error(use.loc, "", not_found_message(use.path, found));
            continue;
        }
        std::string canonical = canonical_of(found.path);
        auto it = by_canonical_.find(canonical);
        if (it != by_canonical_.end()) {
            uint32_t target = it->second;
            use.resolved_module = target + 1;
            auto on_stack = std::find(stack_.begin(), stack_.end(), target);
            if (on_stack != stack_.end()) {
                std::string cycle;
                for (auto s = on_stack; s != stack_.end(); ++s) cycle += out_.modules[*s]->path + " -> ";
                cycle += out_.modules[target]->path;
                diag_.error(use.loc, "", "Import cycle: " + cycle);
            }
            continue;
        }
        if (stack_.size() >= kMaxImportDepth) {
            diag_.error(use.loc, "", "Imports nested too deeply (more than " +
                                         std::to_string(kMaxImportDepth) + " files in one chain)");
            continue;
        }
        std::string text, why;
        if (read_source_file(found.path.string(), text, why) != ReadStatus::Ok) {
            diag_.error(use.loc, "", "Cannot read '" + found.path.string() + "': " + why);
            continue;
        }
        uint32_t loaded = load(found.path.string(), canonical, std::move(text));
        use.resolved_module = loaded + 1;
    }
}

// A `use` that found no regular file. When a searched place holds
// something else under the name (a folder, a FIFO), that is the real
// error and comes first; then what each place holds.
std::string Loader::not_found_message(const std::string& use_path, const Found& f) {
    if (f.unusable.empty()) {
        if (f.searched.empty()) return "Cannot find '" + use_path + "' (no such file)";
        std::string msg = "Cannot find '" + use_path + "' (searched:";
        for (size_t i = 0; i < f.searched.size(); ++i) msg += (i ? ", " : " ") + f.searched[i];
        return msg + ")";
    }
    std::string msg = "Cannot use '" + use_path + "': " + f.unusable[0];
    if (f.searched.empty()) return msg;
    msg += " (searched:";
    for (size_t i = 0; i < f.searched.size(); ++i) msg += (i ? "; " : " ") + f.searched[i] + " holds " + f.holds[i];
    return msg + ")";
}

// §3: the importing file's folder, each -I folder, each NPK_PATH entry,
// then the built-in stdlib folder.
Loader::Found Loader::resolve(const std::string& use_path, const fs::path& importing_dir) const {
    Found f;
    fs::path rel(use_path);
    std::string why;
    if (rel.is_absolute()) {
        if (is_regular(rel, why)) {
            f.ok = true;
            f.path = rel.lexically_normal();
        } else if (!why.empty()) {
            f.unusable.push_back(rel.string() + " " + lower_first(why));
        }
        return f;
    }
    std::vector<fs::path> dirs;
    dirs.push_back(importing_dir);
    for (const auto& d : opts_.include_dirs) dirs.emplace_back(d);
    for (const auto& d : npk_path_) dirs.emplace_back(d);
    if (!opts_.stdlib_dir.empty()) dirs.emplace_back(opts_.stdlib_dir);
    for (const fs::path& d : dirs) {
        fs::path candidate = (d / rel).lexically_normal();
        if (is_regular(candidate, why)) {
            f.ok = true;
            f.path = candidate;
            return f;
        }
        if (!why.empty()) f.unusable.push_back(candidate.string() + " " + lower_first(why));
        f.searched.push_back(d.empty() ? std::string(".") : d.string());
        f.holds.push_back(what_is_at(candidate));
    }
    return f;
}

}  // namespace

bool load_program_text(const std::string& root_path, std::string text, const Options& opts,
                       SourceManager& sources, ast::Program& out, Diagnostics& diag) {
    size_t errors_before = diag.error_count();
    Loader loader(opts, sources, out, diag);
    loader.load(root_path, canonical_of(root_path), std::move(text));
    return diag.error_count() == errors_before;
}

bool load_program(const std::string& root_path, const Options& opts, SourceManager& sources,
                  ast::Program& out, Diagnostics& diag) {
    std::string text, why;
    if (read_source_file(root_path, text, why) != ReadStatus::Ok) {
        diag.error({}, "", "Cannot read '" + root_path + "': " + why);
        return false;
    }
    return load_program_text(root_path, std::move(text), opts, sources, out, diag);
}

}  // namespace npk
