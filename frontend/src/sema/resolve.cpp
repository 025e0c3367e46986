// Names (nitpick-subset.md §3, §5.3): what each module can see (its own
// declarations and what its `use`s import), the builtins, and the
// locals of the body being checked.
#include <string>
#include <vector>

#include "sema/checker_p.h"

namespace npk {

const char* builtin_name(Builtin b) {
    switch (b) {
    case Builtin::Alloc: return "alloc";
    case Builtin::Free: return "free";
    case Builtin::WildxAlloc: return "wildx_alloc";
    case Builtin::WildxSeal: return "wildx_seal";
    case Builtin::WildxFree: return "wildx_free";
    case Builtin::PrintI32: return "print_i32";
    }
    return "?";
}

namespace sema_detail {

bool lookup_builtin(const std::string& name, Builtin& out) {
    static const std::pair<const char*, Builtin> table[] = {
        {"alloc", Builtin::Alloc},           {"free", Builtin::Free},
        {"wildx_alloc", Builtin::WildxAlloc}, {"wildx_seal", Builtin::WildxSeal},
        {"wildx_free", Builtin::WildxFree},   {"print_i32", Builtin::PrintI32},
    };
    for (const auto& [n, b] : table)
        if (name == n) {
            out = b;
            return true;
        }
    return false;
}

void Checker::declare_structs() {
    for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
        for (const StructDecl& sd : mod(m).structs) {
            auto st = std::make_unique<StructInfo>();
            st->name = sd.name;
            st->decl = &sd;
            st->module = m;
            struct_of_[&sd] = st.get();
            s_.structs.push_back(std::move(st));
        }
    }
}

// Adds a name to a module's scope; a second definition is an error at
// `loc` with a note at the first. `why` says how the name got there.
void Checker::add_call(uint32_t m, const std::string& name, CallName c, const std::string& why) {
    auto [it, fresh] = scopes_[m].calls.emplace(name, c);
    if (fresh) return;
    const CallName& old = it->second;
    if (old.fn == c.fn && old.ext == c.ext) return;  // the same thing imported twice
    error(c.loc, "'" + name + "' " + why + " clashes with another '" + name + "' visible in " +
                     mod(m).path);
    note(old.loc, "the other '" + name + "' is declared here");
}

void Checker::add_type(uint32_t m, const std::string& name, TypeName t, const std::string& why) {
    auto [it, fresh] = scopes_[m].types.emplace(name, t);
    if (fresh) return;
    const TypeName& old = it->second;
    if (old.type == t.type && old.st == t.st) return;
    error(t.loc, "'" + name + "' " + why + " clashes with another '" + name + "' visible in " +
                     mod(m).path);
    note(old.loc, "the other '" + name + "' is declared here");
}

void Checker::build_scopes() {
    // Own declarations first, so duplicates inside a file are reported
    // at the second declaration.
    for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
        const Module& md = mod(m);
        for (const auto& f : md.funcs)
            add_call(m, f->name, CallName{f.get(), nullptr, m, f->name_loc}, "(function)");
        for (const ExternDecl& e : md.externs)
            add_call(m, e.name, CallName{nullptr, &e, m, e.name_loc}, "(extern)");
        for (const TypeDecl& t : md.types)
            add_type(m, t.name, TypeName{&t, nullptr, m, t.loc}, "(Type)");
        for (const StructDecl& sd : md.structs)
            add_type(m, sd.name, TypeName{nullptr, struct_of_.at(&sd), m, sd.loc}, "(struct)");
    }
    // Then imports (§3): every Type, every pub func and pub struct of
    // the imported file; its other functions and externs stay private.
    for (uint32_t m = 0; m < prog_.modules.size(); ++m) {
        for (const UseDecl& u : mod(m).uses) {
            if (u.resolved_module == 0) continue;  // the loader reported it
            uint32_t from = u.resolved_module - 1;
            const Module& src = mod(from);
            if (u.form == UseDecl::Form::Alias) {
                error(u.loc, "'use \"" + u.path + "\" as " + u.alias +
                                 "' is not supported by npk: use '.*' or '.{names}'");
                continue;
            }
            auto wanted = [&](const std::string& name) {
                if (u.form != UseDecl::Form::Names) return true;
                return std::find(u.names.begin(), u.names.end(), name) != u.names.end();
            };
            std::string why = "(imported from " + src.path + ")";
            std::vector<std::string> found;
            for (const TypeDecl& t : src.types)
                if (wanted(t.name)) {
                    add_type(m, t.name, TypeName{&t, nullptr, from, u.loc}, why);
                    found.push_back(t.name);
                }
            for (const StructDecl& sd : src.structs)
                if (sd.is_pub && wanted(sd.name)) {
                    add_type(m, sd.name, TypeName{nullptr, struct_of_.at(&sd), from, u.loc}, why);
                    found.push_back(sd.name);
                }
            for (const auto& f : src.funcs)
                if (f->is_pub && wanted(f->name)) {
                    add_call(m, f->name, CallName{f.get(), nullptr, from, u.loc}, why);
                    found.push_back(f->name);
                }
            // A `pub extern` names a C symbol: a file that declares the
            // same symbol itself keeps its own declaration, no clash.
            for (const ExternDecl& e : src.externs)
                if (e.is_pub && wanted(e.name)) {
                    auto own = scopes_[m].calls.find(e.name);
                    if (own == scopes_[m].calls.end() || !own->second.ext || own->second.module != m)
                        add_call(m, e.name, CallName{nullptr, &e, from, u.loc}, why);
                    found.push_back(e.name);
                }
            if (u.form == UseDecl::Form::Names)
                for (const std::string& n : u.names)
                    if (std::find(found.begin(), found.end(), n) == found.end())
                        error(u.loc, "'" + n + "' is not exported by " + src.path +
                                         " (only Types, pub func, pub extern and pub struct are)");
        }
    }
}

const Checker::TypeName* Checker::find_type_name(uint32_t m, const std::string& name) const {
    auto it = scopes_[m].types.find(name);
    return it == scopes_[m].types.end() ? nullptr : &it->second;
}

int32_t Checker::lookup_local(const std::string& name) const {
    auto it = locals_.find(name);
    return it == locals_.end() || it->second.empty() ? -1 : it->second.back();
}

int32_t Checker::declare_local(const std::string& name, SlotInfo slot, bool& duplicate) {
    auto idx = static_cast<int32_t>(fn_->slots.size());
    fn_->slots.push_back(std::move(slot));
    auto depth = static_cast<uint32_t>(open_scopes_.size());
    slot_depth_.push_back(depth);
    auto [it, fresh] = locals_.try_emplace(name);
    std::vector<int32_t>& visible = it->second;
    duplicate = !visible.empty() && slot_depth_[static_cast<size_t>(visible.back())] == depth;
    visible.push_back(idx);
    open_scopes_.back().push_back(&it->first);  // map keys stay put
    return idx;
}

void Checker::enter_scope(const ScopeView&) { open_scopes_.emplace_back(); }

void Checker::leave_scope(const ScopeView&, Outcome) {
    for (const std::string* name : open_scopes_.back()) locals_[*name].pop_back();
    open_scopes_.pop_back();
}

const Type* Checker::check_name(const Name& n) {
    int32_t sl = lookup_local(n.name);
    if (sl >= 0) {
        s_.slot[n.id] = sl;
        return slot(sl).type;
    }
    Builtin b;
    if (scopes_[module_].calls.count(n.name) || lookup_builtin(n.name, b))
        error(n.loc, "'" + n.name + "' is a function: call it as " + n.name + "(...)");
    else if (find_type_name(module_, n.name))
        error(n.loc, "'" + n.name + "' is a type name, not a value");
    else
        error(n.loc, "Unknown identifier '" + n.name + "'");
    return s_.types.error();
}
}  // namespace sema_detail
}  // namespace npk
