// elf_image.cpp — the ELF object of elf_image.h, laid out as
//
//   ELF header | .shstrtab | .strtab | .symtab | section headers
//
// The structures are the ELF64 ones of the System V gABI, spelled out
// here rather than taken from <elf.h> (not every host has it).
#include "tools/elf_image.h"

#include "arch/arch.h"

#include <cstdlib>
#include <cstring>

namespace npk::tools {
namespace {

struct Ehdr {
    unsigned char e_ident[16];
    uint16_t e_type, e_machine;
    uint32_t e_version;
    uint64_t e_entry, e_phoff, e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};
struct Shdr {
    uint32_t sh_name, sh_type;
    uint64_t sh_flags, sh_addr, sh_offset, sh_size;
    uint32_t sh_link, sh_info;
    uint64_t sh_addralign, sh_entsize;
};
struct Sym {
    uint32_t st_name;
    unsigned char st_info, st_other;
    uint16_t st_shndx;
    uint64_t st_value, st_size;
};
static_assert(sizeof(Ehdr) == 64 && sizeof(Shdr) == 64 && sizeof(Sym) == 24);

constexpr uint16_t kEtRel = 1;
constexpr uint32_t kShtSymtab = 2, kShtStrtab = 3, kShtNobits = 8;
constexpr uint64_t kShfAlloc = 2, kShfExecinstr = 4;
constexpr uint16_t kShnAbs = 0xFFF1;
constexpr unsigned char kStbLocal = 0, kStbGlobal = 1, kSttFunc = 2, kSttFile = 4;

// Section numbers, and their names in .shstrtab at the offsets below.
enum : uint16_t { kNull, kText, kSymtab, kStrtab, kShstrtab, kSections };
constexpr char kShstr[] = "\0.text\0.symtab\0.strtab\0.shstrtab";
constexpr uint32_t kShName[kSections] = {0, 1, 7, 15, 23};
constexpr char kFileName[] = "npkjit";

size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

unsigned char* elf_image(uintptr_t base, size_t span, const CodeSpan* fns, size_t n, size_t* size) {
    // Sizes first: .strtab holds "", the file name, then every function's name.
    size_t strtab = 1 + sizeof kFileName;
    for (size_t i = 0; i < n; ++i) {
        strtab += (fns[i].name != nullptr ? std::strlen(fns[i].name) : kDefaultNameSize - 1) + 1;
    }
    const size_t nsyms = 2 + n;
    const size_t shstr_at = sizeof(Ehdr);
    const size_t str_at = shstr_at + sizeof kShstr;
    const size_t sym_at = align8(str_at + strtab);
    const size_t sh_at = align8(sym_at + nsyms * sizeof(Sym));
    const size_t total = sh_at + kSections * sizeof(Shdr);
    auto* img = static_cast<unsigned char*>(std::calloc(1, total));
    if (img == nullptr) return nullptr;

    Ehdr eh{};
    const unsigned char ident[16] = {0x7F, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */};
    std::memcpy(eh.e_ident, ident, sizeof ident);
    eh.e_type = kEtRel;
    eh.e_machine = static_cast<uint16_t>(arch::kElfMachine);
    eh.e_version = 1;
    eh.e_shoff = sh_at;
    eh.e_ehsize = sizeof(Ehdr);
    eh.e_shentsize = sizeof(Shdr);
    eh.e_shnum = kSections;
    eh.e_shstrndx = kShstrtab;
    std::memcpy(img, &eh, sizeof eh);
    std::memcpy(img + shstr_at, kShstr, sizeof kShstr);

    char* str = reinterpret_cast<char*>(img + str_at);
    size_t str_used = 1;  // the empty name
    auto add_string = [&](const char* s) {
        const size_t at = str_used;
        const size_t len = std::strlen(s) + 1;
        std::memcpy(str + at, s, len);
        str_used += len;
        return static_cast<uint32_t>(at);
    };
    Sym sym{};
    sym.st_name = add_string(kFileName);
    sym.st_info = static_cast<unsigned char>(kStbLocal << 4 | kSttFile);
    sym.st_shndx = kShnAbs;
    std::memcpy(img + sym_at + sizeof(Sym), &sym, sizeof sym);
    for (size_t i = 0; i < n; ++i) {
        char fallback[kDefaultNameSize];
        const char* name = name_or_default(fns[i].name, fns[i].start, fallback);
        sym = Sym{};
        sym.st_name = add_string(name);
        sym.st_info = static_cast<unsigned char>(kStbGlobal << 4 | kSttFunc);
        sym.st_shndx = kText;
        sym.st_value = fns[i].start - base;  // relocatable: relative to .text
        sym.st_size = fns[i].size;
        std::memcpy(img + sym_at + (2 + i) * sizeof(Sym), &sym, sizeof sym);
    }

    Shdr sh[kSections]{};
    for (uint16_t k = 0; k < kSections; ++k) sh[k].sh_name = kShName[k];
    sh[kText] = Shdr{kShName[kText], kShtNobits, kShfAlloc | kShfExecinstr, base, 0, span, 0, 0, 16, 0};
    // sh_info: the index of the first global symbol.
    sh[kSymtab] = Shdr{kShName[kSymtab], kShtSymtab, 0, 0, sym_at, nsyms * sizeof(Sym), kStrtab, 2, 8, sizeof(Sym)};
    sh[kStrtab] = Shdr{kShName[kStrtab], kShtStrtab, 0, 0, str_at, str_used, 0, 0, 1, 0};
    sh[kShstrtab] = Shdr{kShName[kShstrtab], kShtStrtab, 0, 0, shstr_at, sizeof kShstr, 0, 0, 1, 0};
    std::memcpy(img + sh_at, sh, sizeof sh);
    *size = total;
    return img;
}

}  // namespace npk::tools
