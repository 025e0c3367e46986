#include "run/externs.h"

#include <dlfcn.h>
#include <npk/handle.h>
#include <npk/jit.h>
#include <npk/jitbuild.h>
#include <npk/status.h>
#include <npk/validate.h>
#include <npk/wildx.h>

#include <bit>
#include <cassert>
#include <cstring>

namespace npk {

namespace {

template <typename F>
void* address_of(F* f) {
    // POSIX guarantees a function address fits a void* (dlsym relies on it).
    return reinterpret_cast<void*>(f);
}

constexpr CType kSizeT = sizeof(size_t) == 8 ? CType::UInt64 : CType::UInt32;

ffi_type* ffi_type_for(CType t) {
    switch (t) {
    case CType::Void: return &ffi_type_void;
    case CType::SInt8: return &ffi_type_sint8;
    case CType::SInt16: return &ffi_type_sint16;
    case CType::SInt32: return &ffi_type_sint32;
    case CType::SInt64: return &ffi_type_sint64;
    case CType::UInt8:
    case CType::Bool: return &ffi_type_uint8;
    case CType::UInt16: return &ffi_type_uint16;
    case CType::UInt32: return &ffi_type_uint32;
    case CType::UInt64: return &ffi_type_uint64;
    case CType::Pointer: return &ffi_type_pointer;
    case CType::Double: return &ffi_type_double;
    }
    return nullptr;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

}  // namespace

const std::vector<RuntimeSymbol>& runtime_symbols() {
    using C = CType;
    using R = RuntimeRole;
    // Every function of runtime/include/npk/*.h with its C signature, so a
    // Nitpick declaration that disagrees with the runtime is caught before
    // the call instead of corrupting arguments.
    static const std::vector<RuntimeSymbol> table = {
        {"npk_alloc", address_of(&npk_alloc), {C::Pointer, {kSizeT}}, R::HeapAlloc},
        {"npk_free", address_of(&npk_free), {C::Void, {C::Pointer}}, R::HeapFree},
        {"npk_wildx_alloc", address_of(&npk_wildx_alloc), {C::Pointer, {kSizeT}}, R::PageAlloc},
        {"npk_wildx_seal", address_of(&npk_wildx_seal), {C::SInt32, {C::Pointer}}, R::PageSeal},
        {"npk_wildx_free", address_of(&npk_wildx_free), {C::SInt32, {C::Pointer}}, R::PageFree},
        {"npk_wildx_state", address_of(&npk_wildx_state), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_wildx_size", address_of(&npk_wildx_size), {kSizeT, {C::Pointer}}, R::None},
        {"npk_wildx_code_hash", address_of(&npk_wildx_code_hash), {C::SInt32, {C::Pointer, C::Pointer}}, R::None},
        {"npk_wildx_verify", address_of(&npk_wildx_verify), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_wildx_fnv1a64", address_of(&npk_wildx_fnv1a64), {C::UInt64, {C::Pointer, kSizeT}}, R::None},
        {"npk_wildx_set_quota", address_of(&npk_wildx_set_quota), {C::Void, {kSizeT}}, R::None},
        {"npk_wildx_quota", address_of(&npk_wildx_quota), {kSizeT, {}}, R::None},
        {"npk_wildx_get_stats", address_of(&npk_wildx_get_stats), {C::Void, {C::Pointer}}, R::None},
        {"npk_wildx_last_error", address_of(&npk_wildx_last_error), {C::SInt32, {}}, R::None},
        {"npk_wildx_error_string", address_of(&npk_wildx_error_string), {C::Pointer, {C::SInt32}}, R::None},
        {"npk_wildx_set_audit", address_of(&npk_wildx_set_audit), {C::Void, {C::SInt32}}, R::None},
        {"npk_wildx_set_guard_pages", address_of(&npk_wildx_set_guard_pages), {C::Void, {C::SInt32}}, R::None},
        {"npk_wildx_set_quiet", address_of(&npk_wildx_set_quiet), {C::Void, {C::SInt32}}, R::None},
        {"npk_last_error", address_of(&npk_last_error), {C::SInt32, {}}, R::None},
        {"npk_last_error_message", address_of(&npk_last_error_message), {C::Pointer, {}}, R::None},
        {"npk_status_string", address_of(&npk_status_string), {C::Pointer, {C::SInt32}}, R::None},
        {"npk_rejections", address_of(&npk_rejections), {C::UInt64, {C::SInt32}}, R::None},
        {"npk_jit_host_supported", address_of(&npk_jit_host_supported), {C::SInt32, {}}, R::None},
        {"npk_jit_install_add_i32", address_of(&npk_jit_install_add_i32), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_jit_call_i32_i32", address_of(&npk_jit_call_i32_i32), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32}}, R::CodeCall},
        // npk/jitbuild.h: the builder, regions and checked calls.
        {"npk_jit_builder_new", address_of(&npk_jit_builder_new), {C::Pointer, {C::SInt32}}, R::None},
        {"npk_jit_builder_free", address_of(&npk_jit_builder_free), {C::Void, {C::Pointer}}, R::None},
        {"npk_jit_builder_error", address_of(&npk_jit_builder_error), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_jit_param", address_of(&npk_jit_param), {C::SInt32, {C::Pointer, C::SInt32}}, R::None},
        {"npk_jit_var", address_of(&npk_jit_var), {C::SInt32, {C::Pointer, C::SInt32}}, R::None},
        {"npk_jit_var_type", address_of(&npk_jit_var_type), {C::SInt32, {C::Pointer, C::SInt32}}, R::None},
        {"npk_jit_const_i64", address_of(&npk_jit_const_i64), {C::SInt32, {C::Pointer, C::SInt32, C::SInt64}}, R::None},
        {"npk_jit_const_f64", address_of(&npk_jit_const_f64), {C::SInt32, {C::Pointer, C::SInt32, C::Double}}, R::None},
        {"npk_jit_mov", address_of(&npk_jit_mov), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_op", address_of(&npk_jit_op),
         {C::SInt32, {C::Pointer, C::SInt32, C::SInt32, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_neg", address_of(&npk_jit_neg), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_not", address_of(&npk_jit_not), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_convert", address_of(&npk_jit_convert), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_load", address_of(&npk_jit_load), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_store", address_of(&npk_jit_store), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_label", address_of(&npk_jit_label), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_jit_bind", address_of(&npk_jit_bind), {C::SInt32, {C::Pointer, C::SInt32}}, R::None},
        {"npk_jit_jump", address_of(&npk_jit_jump), {C::SInt32, {C::Pointer, C::SInt32}}, R::None},
        {"npk_jit_branch_if", address_of(&npk_jit_branch_if), {C::SInt32, {C::Pointer, C::SInt32, C::SInt32}}, R::None},
        {"npk_jit_call_native", address_of(&npk_jit_call_native),
         {C::SInt32, {C::Pointer, C::SInt32, C::Pointer, C::SInt32, C::SInt32, C::Pointer}}, R::None},
        {"npk_jit_ret", address_of(&npk_jit_ret), {C::SInt32, {C::Pointer, C::SInt32}}, R::None},
        // A built function is a whole sealed W^X page (released by
        // npk_wildx_free): the gate adds it to its table like a wildx_alloc page.
        {"npk_jit_build", address_of(&npk_jit_build), {C::Pointer, {C::Pointer}}, R::PageAlloc},
        // A function built from validated bytes is a whole sealed page too.
        {"npk_jit_build_bytes", address_of(&npk_jit_build_bytes),
         {C::Pointer, {C::Pointer, kSizeT, C::SInt32, C::SInt32, C::Pointer, C::UInt32}}, R::PageAlloc},
        {"npk_jit_build_bytes_named", address_of(&npk_jit_build_bytes_named),
         {C::Pointer, {C::Pointer, kSizeT, C::SInt32, C::SInt32, C::Pointer, C::UInt32, C::Pointer}}, R::PageAlloc},
        {"npk_jit_builder_name", address_of(&npk_jit_builder_name), {C::SInt32, {C::Pointer, C::Pointer}}, R::None},
        {"npk_jit_name", address_of(&npk_jit_name), {C::SInt32, {C::Pointer, C::Pointer, kSizeT}}, R::None},
        {"npk_jit_region_new", address_of(&npk_jit_region_new), {C::Pointer, {}}, R::None},
        {"npk_jit_region_add", address_of(&npk_jit_region_add), {C::Pointer, {C::Pointer, C::Pointer}}, R::None},
        {"npk_jit_region_seal", address_of(&npk_jit_region_seal), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_jit_region_free", address_of(&npk_jit_region_free), {C::SInt32, {C::Pointer}}, R::None},
        {"npk_jit_region_count", address_of(&npk_jit_region_count), {C::SInt64, {C::Pointer}}, R::None},
        // A refused checked call (-1: wrong signature, not a live built
        // function) stops the program with the runtime's reason; nothing ran.
        {"npk_jit_invoke", address_of(&npk_jit_invoke),
         {C::SInt32, {C::Pointer, C::Pointer, C::SInt32, C::Pointer}}, R::CheckedCall},
        {"npk_jit_signature", address_of(&npk_jit_signature), {C::SInt32, {C::Pointer, C::Pointer, kSizeT}}, R::None},
        {"npk_jit_validate", address_of(&npk_jit_validate), {C::SInt32, {C::Pointer, kSizeT, C::UInt32, C::Pointer}}, R::None},
        {"npk_handle_arena_create", address_of(&npk_handle_arena_create), {C::SInt64, {}}, R::None},
        {"npk_handle_arena_destroy", address_of(&npk_handle_arena_destroy), {C::Void, {C::SInt64}}, R::None},
        {"npk_handle_alloc", address_of(&npk_handle_alloc), {C::SInt64, {C::SInt64, C::SInt64}}, R::None},
        {"npk_handle_deref", address_of(&npk_handle_deref), {C::Pointer, {C::SInt64}}, R::None},
        {"npk_handle_free", address_of(&npk_handle_free), {C::Void, {C::SInt64}}, R::None},
        {"npk_handle_get_stats", address_of(&npk_handle_get_stats), {C::Void, {C::Pointer}}, R::None},
    };
    return table;
}

void* load_library(const std::string& path, std::string& why) {
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) return h;
    const char* e = dlerror();
    why = e ? e : "unknown error";
    if (why.compare(0, path.size() + 2, path + ": ") == 0) why.erase(0, path.size() + 2);
    return nullptr;
}

std::string load_failure(const std::string& path, const std::string& why) {
    return "Cannot load the library '" + path + "' given with --load: " + why +
           (path.find('/') == std::string::npos
                ? " (a name without '/' is searched where the dynamic linker looks; write ./" + path +
                      " for a file here)"
                : "");
}

ExternTable::~ExternTable() {
    for (void* h : libs_) dlclose(h);
}

bool ExternTable::bind_all(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    bool ok = true;
    for (const std::string& lib : opts.load_libs) {
        std::string why;
        void* h = load_library(lib, why);
        if (!h) {
            diag.error({}, "", load_failure(lib, why));
            ok = false;
            continue;
        }
        libs_.push_back(h);
        lib_names_.push_back(lib);
    }

    for (const auto& m : prog.modules) {
        for (const ast::ExternDecl& e : m->externs) {
            const ExternInfo& info = sema.externs.at(&e);
            if (!info.valid) {  // the checker reported why; nothing runs after that
                ok = false;
                continue;
            }
            auto b = std::make_unique<BoundExtern>();
            b->decl = &e;
            b->sig = info.sig;

            bool mismatch = false;
            for (const RuntimeSymbol& rs : runtime_symbols()) {
                if (e.name != rs.name) continue;
                bool same = rs.sig.params.size() == b->sig.params.size() && ctype_compatible(rs.sig.ret, b->sig.ret);
                for (size_t i = 0; same && i < rs.sig.params.size(); ++i)
                    same = ctype_compatible(rs.sig.params[i], b->sig.params[i]);
                if (!same) {
                    diag.error(e.name_loc, "", "Extern '" + e.name + "' is declared " + csig_str(b->sig) +
                                                   ", but the runtime's '" + e.name + "' is " + csig_str(rs.sig));
                    mismatch = true;
                    break;
                }
                b->fn = rs.address;
                b->found_in = "the runtime";
                b->role = gate_role_of(e.name) != RuntimeRole::None ? gate_role_of(e.name) : rs.role;
                b->in_runtime = true;
                break;
            }
            if (mismatch) {
                ok = false;
                continue;
            }
            for (size_t i = 0; !b->fn && i < libs_.size(); ++i) {
                if (void* p = dlsym(libs_[i], e.name.c_str())) {
                    b->fn = p;
                    b->found_in = lib_names_[i];
                }
            }
            if (!b->fn) {
                if (void* p = dlsym(RTLD_DEFAULT, e.name.c_str())) {
                    b->fn = p;
                    b->found_in = "the process";
                }
            }
            if (!b->fn) {
                std::string where = "the runtime";
                if (!lib_names_.empty()) where += ", the --load libraries (" + joined(lib_names_) + ")";
                where += " and the process";
                diag.error(e.name_loc, "", "Extern '" + e.name + "': no symbol '" + e.name + "' in " + where);
                ok = false;
                continue;
            }

            for (CType c : b->sig.params) b->arg_types.push_back(ffi_type_for(c));
            ffi_status st = ffi_prep_cif(&b->cif, FFI_DEFAULT_ABI, static_cast<unsigned>(b->arg_types.size()),
                                         ffi_type_for(b->sig.ret), b->arg_types.empty() ? nullptr : b->arg_types.data());
            if (st != FFI_OK) {
                diag.error(e.name_loc, "", "Extern '" + e.name + "': libffi cannot express the signature " +
                                               csig_str(b->sig) + " (ffi_prep_cif status " + std::to_string(st) + ")");
                ok = false;
                continue;
            }
            bound_.emplace(&e, std::move(b));
        }
    }
    return ok;
}

uint64_t ExternTable::call(const BoundExtern& b, const std::vector<uint64_t>& args) {
    assert(args.size() == b.sig.params.size());
    union Slot {
        int8_t s8;
        int16_t s16;
        int32_t s32;
        int64_t s64;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        void* p;
        double d;
    };
    std::vector<Slot> slots(args.size());
    std::vector<void*> ptrs(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
        Slot& s = slots[i];
        uint64_t v = args[i];
        switch (b.sig.params[i]) {
        case CType::SInt8: s.s8 = static_cast<int8_t>(v); break;
        case CType::SInt16: s.s16 = static_cast<int16_t>(v); break;
        case CType::SInt32: s.s32 = static_cast<int32_t>(v); break;
        case CType::SInt64: s.s64 = static_cast<int64_t>(v); break;
        case CType::UInt8: s.u8 = static_cast<uint8_t>(v); break;
        case CType::Bool: s.u8 = v != 0; break;
        case CType::UInt16: s.u16 = static_cast<uint16_t>(v); break;
        case CType::UInt32: s.u32 = static_cast<uint32_t>(v); break;
        case CType::UInt64: s.u64 = v; break;
        case CType::Pointer: s.p = reinterpret_cast<void*>(static_cast<uintptr_t>(v)); break;
        case CType::Double: std::memcpy(&s.d, &v, sizeof s.d); break;  // the word holds the bits
        case CType::Void: assert(false && "void parameter"); break;
        }
        ptrs[i] = &s;
    }
    // libffi widens integral results narrower than a register to ffi_arg.
    union {
        ffi_arg a;
        uint64_t u64;
        void* p;
        double d;
    } ret{};
    ffi_call(const_cast<ffi_cif*>(&b.cif), reinterpret_cast<void (*)()>(b.fn), &ret,
             ptrs.empty() ? nullptr : ptrs.data());
    switch (b.sig.ret) {
    case CType::Void: return 0;
    case CType::SInt8: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(ret.a)));
    case CType::SInt16: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(ret.a)));
    case CType::SInt32: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(ret.a)));
    case CType::SInt64: return ret.u64;
    case CType::UInt8: return static_cast<uint8_t>(ret.a);
    case CType::Bool: return static_cast<uint8_t>(ret.a) != 0;
    case CType::UInt16: return static_cast<uint16_t>(ret.a);
    case CType::UInt32: return static_cast<uint32_t>(ret.a);
    case CType::UInt64: return ret.u64;
    case CType::Pointer: return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ret.p));
    case CType::Double: return std::bit_cast<uint64_t>(ret.d);
    }
    return 0;
}

}  // namespace npk
