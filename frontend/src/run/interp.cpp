// The interpreter: a tree walk over a checked program, reading the
// checker's facts from Sema (nitpick-subset.md §5–§7).
//
// Values are canonical 64-bit words, Results and structs (run/value.h):
// widening within a signedness family never changes a word, and every
// operation re-normalises its result to its width, which is what makes
// wrapping exact for every width.
//
// Control leaves a function by Flow::Return (pass / fail / return, after
// running the defers of every block on the way out). `exit` and run-time
// faults are C++ exceptions caught in run_program: they unwind past every
// defer, as §5.2 wants for `exit`. No exception ever crosses a C frame:
// C code called through libffi never calls back into the interpreter.
#include <npk/jit.h>
#include <npk/wildx.h>
#include <pthread.h>

#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "analysis/drops.h"
#include "analysis/scope_exits.h"
#include "run/drops.h"
#include "run/externs.h"
#include "run/interp_p.h"
#include "run/jit_fault.h"
#include "run/value.h"
#include "sema/sema.h"
#include "syntax/scopes.h"

namespace npk {

namespace {

using namespace ast;
using namespace run;

// Interpreted calls nest C++ frames (call → block → statement →
// expression …), so recursion in the program is bounded well below what
// the native stack holds: deeper is a run-time fault routed to failsafe,
// not a crash. Calls are counted; and because one call may hold an
// expression up to the parser's height limit, the native stack used is
// measured too. The program runs on a thread of its own with a stack of
// kInterpStack bytes (only touched pages cost memory), so the bound does
// not depend on the caller's stack or on sanitizers' larger frames.
constexpr int kMaxCallDepth = 1000;
// Half of it is the budget: a fault unwinds the used part with a C++
// exception, and AddressSanitizer stops cleaning up after unwinds of more
// than 64 MiB.
constexpr size_t kInterpStack = size_t{64} << 20;
constexpr size_t kStackBudget = kInterpStack / 2;


class Interp {
public:
    Interp(const Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag)
        : prog_(prog), s_(sema), opts_(opts), diag_(diag), raii_(drop_switches(prog)) {}

    // `wild S` structs are never released by the program (§11.2.4:
    // nothing can free them without drop.npk), and a program stopped by a
    // fault leaves what it held; a compiled program leaves them to the OS.
    // The gate hands every live resource back when the run ends, which no
    // program can observe.
    ~Interp() { gate_.release_all(); }

    int run() {
        if (!s_.main || !s_.failsafe) {
            const Module& root = prog_.root();
            diag_.error(Loc{root.file, 1, 1, 0}, "",
                        "this file defines neither 'func:main = int32()' nor 'func:failsafe = int32(tbb32:err)': "
                        "it is a library, which can be checked but not run");
            return 1;
        }
        if (!externs_.bind_all(prog_, s_, opts_, diag_)) return 1;
        stack_base_ = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
        try {
            call(s_.main, {}, s_.main->loc);
            return 0;
        } catch (const ExitSignal& e) {
            return e.status;
        } catch (const Fault& f) {
            return fault(f);
        }
    }

private:
    struct Frame {
        const FuncInfo* fn = nullptr;
        std::vector<Value> slots;
        // What each active block registered (drops and defers), outermost
        // first; analysis/scope_exits.h says what runs when.
        std::vector<ScopeRecord> scopes;
        Value ret;
    };
    // Break / Continue travel out of the scopes of a loop body to its
    // `while` (the checker allows them only there).
    enum class Flow { Normal, Return, Break, Continue };

    // ------------------------------------------------------------------
    // Faults (§6.1): print, then failsafe(code); its `exit` decides the
    // status, or the code does if it returns.
    // ------------------------------------------------------------------
    int fault(const Fault& f) {
        std::fflush(stdout);  // the program's output so far comes first
        diag_.runtime_error(f.loc, f.message);
        if (f.note_loc.line != 0) diag_.note(f.note_loc, f.note);
        // In a library helper: the chain of calls, innermost first ([0] is main's entry).
        if (f.loc.file != prog_.root().file)
            for (size_t i = call_sites_.size(); i-- > 1;)
                diag_.note(call_sites_[i].at, "called from here");
        depth_ = 0;
        call_sites_.clear();
        rejection_.reset();
        try {
            Value code = int_value(normalize(static_cast<uint64_t>(f.code), s_.func(s_.failsafe).params[0]));
            call(s_.failsafe, {code}, f.loc);
            return f.code;
        } catch (const ExitSignal& e) {
            return e.status;
        } catch (const Fault& again) {
            std::fflush(stdout);
            diag_.runtime_error(again.loc, "In failsafe: " + again.message);
            return f.code;
        }
    }


    // ------------------------------------------------------------------
    // Calls.
    // ------------------------------------------------------------------
    // The stack grows down on every host npk supports.
    void check_stack(Loc at) const {
        auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
        if (stack_base_ > here && stack_base_ - here > kStackBudget)
            throw Fault{at, "The native stack is exhausted (recursion too deep)", NPK_FAULT_CALL_DEPTH};
    }

    Value call(const FuncDecl* fd, std::vector<Value> args, Loc at) {
        const FuncInfo& fi = s_.func(fd);
        check_stack(at);
        if (depth_ >= kMaxCallDepth)
            throw Fault{at, "Call depth exceeds " + std::to_string(kMaxCallDepth) + " (runaway recursion in '" +
                                fi.display + "'?)",
                        NPK_FAULT_CALL_DEPTH};
        ++depth_;
        call_sites_.push_back({at, &fi});
        Frame f;
        f.fn = &fi;
        f.slots.resize(fi.slots.size());
        for (size_t i = 0; i < args.size(); ++i) f.slots[i] = std::move(args[i]);
        Flow flow = exec_block(*fd->body, f);
        if (rejection_ && rejection_depth_ == depth_) throw take_rejection();
        call_sites_.pop_back();
        --depth_;
        if (fi.role == FuncRole::Main) return int_value(0);
        if (flow == Flow::Return) return std::move(f.ret);
        return ok_result(zero(fi.ret), fi.ret);
    }

    Value call_builtin(const Call& c, std::vector<Value>& args) {
        Builtin b = s_.callee[c.id].builtin;
        if (b == Builtin::PrintI64) {
            std::printf("%" PRId64 "\n", as_signed(args[0].bits));
            std::fflush(stdout);
            return Value{};
        }
        if (b == Builtin::PrintI32) {
            std::printf("%" PRId32 "\n", static_cast<int32_t>(as_signed(args[0].bits)));
            std::fflush(stdout);
            return Value{};
        }
        const RuntimeRole role = builtin_role(b);
        std::vector<GateWord> words{{args[0].bits, args[0].tag}};
        // §7: sizes are zero-extended to 64 bits from their own width.
        if (role == RuntimeRole::HeapAlloc || role == RuntimeRole::PageAlloc)
            words[0].word &= mask_of(s_.type_of(*c.args[0])->bits);
        guard(role, builtin_name(b), words, c.loc);
        gate_.before();
        Value r = int_value(call_heap_builtin(b, words[0].word));
        r.tag = gate_.after(role, builtin_name(b), words, r.bits, program_site(c.loc));
        return r;
    }

    // A call the runtime must not see stops the program here.
    void guard(RuntimeRole role, const std::string& callee, const std::vector<GateWord>& words, Loc at) const {
        Refusal no = gate_.check(role, callee, words);
        if (no.refused()) throw Fault{at, no.message, no.fault_code, no.note_loc, no.note};
    }

    // The innermost call site in the program's own file (`at` itself when
    // it is there): where a resource made or released inside a library
    // helper is said to be made or released.
    Loc program_site(Loc at) const { return program_call(at, {}).first; }
    // ... and the name of the function called there ("Jit.add"), else `callee`.
    std::pair<Loc, std::string> program_call(Loc at, const std::string& callee) const {
        const uint32_t root = prog_.root().file;
        if (at.file == root) return {at, callee};
        for (auto it = call_sites_.rbegin(); it != call_sites_.rend(); ++it)
            if (it->at.file == root) return {it->at, it->fn->display};
        return {at, callee};
    }

    Value call_extern(const Call& c, std::vector<Value>& args) {
        const BoundExtern& b = externs_.get(s_.callee[c.id].ext);
        std::vector<GateWord> gw;
        std::vector<uint64_t> words;
        gw.reserve(args.size());
        words.reserve(args.size());
        for (const Value& v : args) {
            gw.push_back({v.bits, v.tag});
            words.push_back(v.bits);
        }
        guard(b.role, b.decl->name, gw, c.loc);
        gate_.passed_to_c(gw);  // C may write the memory it is given
        if (b.in_runtime) gate_.before();
        uint64_t r = call_through(b, words, c.loc);
        uint64_t tag = 0;
        if (b.in_runtime) {
            auto [at, name] = program_call(c.loc, b.decl->name);
            tag = gate_.after(b.role, name, gw, r, at);
        }
        if (b.role == RuntimeRole::CheckedCall && static_cast<int32_t>(r) == -1) rejected_call(c, b, frame_);
        const Type* rt = s_.type_of(c);
        Value v = int_value(rt->is_integer() ? normalize(r, rt) : r);
        v.tag = tag != 0 || !rt->is_ptr() || r == 0 ? tag : kForeignTag;
        return v;
    }

    // A machine fault in built code: a run-time error at the program's call that entered it.
    uint64_t call_through(const BoundExtern& b, const std::vector<uint64_t>& words, Loc at) {
        if (b.role != RuntimeRole::CodeCall && b.role != RuntimeRole::CheckedCall) return ExternTable::call(b, words);
        uint64_t r = 0;
        MachineFault mf;
        if (call_extern_catching_faults(b, words, r, mf)) return r;
        throw Fault{program_site(at), describe_fault(mf, words.empty() ? 0 : words[0]), kFaultJitCrash};
    }

    // A checked call the runtime refused (npk_jit_invoke: wrong signature,
    // freed or foreign function): nothing ran. Reported at the program's
    // own call, the innermost call site in the root file, with a note at
    // the library's extern call when that is elsewhere. The fault is
    // raised when the function that made the call returns, so that a
    // library helper (jit.npk's invoke_i64) releases its argument blocks
    // first; in main or failsafe, which may `exit` instead, at once.
    void rejected_call(const Call& c, const BoundExtern& b, const Frame* in) {
        Loc at = program_site(c.loc);
        const char* why = npk_last_error_message();
        Fault f{at, std::string("Call rejected by the runtime, nothing was called: ") + (why && *why ? why : "no reason given"),
                NPK_FAULT_REJECTED_CALL};
        if (at.offset != c.loc.offset || at.file != c.loc.file) {
            f.note_loc = c.loc;
            f.note = "rejected in this call of '" + b.decl->name + "'";
        }
        if (!in || in->fn->role != FuncRole::Normal) throw f;
        if (!rejection_) {  // the first refusal is the one to report
            rejection_ = std::make_unique<Fault>(std::move(f));
            rejection_depth_ = depth_;
        }
    }

    Fault take_rejection() {
        Fault f = std::move(*rejection_);
        rejection_.reset();
        return f;
    }

    // ------------------------------------------------------------------
    // Statements.
    // ------------------------------------------------------------------
    Flow exec_block(const Block& b, Frame& f) { return exec_scope(block_scope(b), f); }

    // §5.4: a scope's defers run when it ends, on fall-through and on
    // pass/fail/return alike, newest first; an outer block runs its own
    // when the Return reaches it, so every enclosing block runs innermost
    // first. `exit` and faults unwind past them (exceptions).
    Flow exec_scope(const ScopeView& scope, Frame& f) {
        Frame* outer = frame_;
        frame_ = &f;
        Flow flow = walk_scope(*this, scope);
        frame_ = outer;
        return flow;
    }

public:
    // ---- the scope walker's hooks (syntax/scopes.h) -------------------
    using Outcome = Flow;
    void enter_scope(const ScopeView&) { frame_->scopes.emplace_back(); }
    Outcome stmt(const Stmt& st, Outcome) { return exec(st, *frame_); }
    bool stops(Outcome flow) const { return flow != Flow::Normal; }
    void leave_scope(const ScopeView& v, Outcome) { run_defers(*frame_, v.end); }

private:
    // A block ends: what it registered runs in the order of
    // exit_schedule (its drops, newest first, then its defers, §9.3).
    void run_defers(Frame& f, Loc end) {
        const std::vector<ExitEntry> todo = exit_schedule(f.scopes, ExitHow::ScopeEnd);
        observe_exit(f.fn->decl, end, ExitHow::ScopeEnd, todo);
        f.scopes.pop_back();
        run_schedule(todo, f);
    }

    void run_schedule(const std::vector<ExitEntry>& todo, Frame& f) {
        for (const ExitEntry& e : todo) {
            if (e.what == ExitEntry::What::Drop) {
                run_drop(e, f);
                continue;
            }
            Flow inner = exec_block(*e.defer, f);
            assert(inner == Flow::Normal && "the checker rejects pass/fail/return in defer");
            (void)inner;
        }
    }

    // exit / pass / fail / return.
    Flow leave(const Leave& s, Frame& f) {
        const Type* rt = f.fn->ret;
        switch (s.how) {
        case LeaveKind::Exit: {
            Value v = eval(*s.value, f);
            throw ExitSignal{static_cast<int32_t>(as_signed(v.bits))};
        }
        case LeaveKind::Pass:
            // ⚑ §6.3: the operand is evaluated before any defer runs.
            if (!s.value) {
                f.ret = ok_result(Value{}, rt);
            } else {
                Value v = eval(*s.value, f);
                if (s_.type_of(*s.value)->is_result()) {
                    // ⚑ §6.2: `pass f()` hands on f's failure unchanged.
                    f.ret = v.is_error ? failed_result(v.err, rt) : ok_result(std::move(v.sub.at(0)), rt);
                } else {
                    f.ret = ok_result(std::move(v), rt);
                }
            }
            leave_function(s, f);
            return Flow::Return;
        case LeaveKind::Fail: {
            Value v = eval(*s.value, f);
            f.ret = failed_result(as_signed(v.bits), rt);
            leave_function(s, f);
            return Flow::Return;
        }
        case LeaveKind::Return:
            if (!s.value) {
                f.ret = ok_result(zero(rt), rt);
            } else if (s.value->kind == ExprKind::StructLit) {
                f.ret = eval_result_literal(static_cast<const StructLit&>(*s.value), f);
            } else {
                Value v = eval(*s.value, f);
                f.ret = v.is_error ? failed_result(v.err, rt) : std::move(v);
            }
            leave_function(s, f);
            return Flow::Return;
        }
        return Flow::Return;
    }

    Flow exec(const Stmt& st, Frame& f) {
        switch (st.kind) {
        case StmtKind::VarDecl: {
            const auto& d = static_cast<const VarDecl&>(st);
            int32_t sl = s_.slot[d.id];
            assert(sl >= 0);
            const SlotInfo& si = f.fn->slots[static_cast<size_t>(sl)];
            Value v = d.init ? eval(*d.init, f) : zero(si.type);
            if (si.heap) {
                uint32_t size = si.type->st->size == 0 ? 1 : si.type->st->size;
                void* p = npk_alloc(size);
                if (!p)
                    throw Fault{d.loc, "Out of memory for 'wild " + si.type->str() + ":" + si.name + "'",
                                NPK_FAULT_OUT_OF_MEMORY};
                Value block = int_value(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
                block.tag = gate_.track_struct(block.bits, size, d.loc);
                store_heap(gate_, block, 0, si.type, v, si.name, d.loc);
                f.slots[static_cast<size_t>(sl)] = block;
            } else {
                f.slots[static_cast<size_t>(sl)] = std::move(v);
            }
            register_decl(f.scopes.back(), d, s_, *f.fn, raii_);
            return Flow::Normal;
        }
        case StmtKind::If: {
            const auto& s = static_cast<const If&>(st);
            if (eval(*s.cond, f).bits != 0) return exec_scope(arm_scope(s.then_body), f);
            if (s.else_body) return exec_scope(arm_scope(s.else_body), f);
            return Flow::Normal;
        }
        case StmtKind::Defer:
            register_defer(f.scopes.back(), static_cast<const Defer&>(st));
            return Flow::Normal;
        case StmtKind::Block: return exec_block(static_cast<const Block&>(st), f);
        case StmtKind::Leave: return leave(static_cast<const Leave&>(st), f);
        case StmtKind::ExprStmt: eval(*static_cast<const ExprStmt&>(st).expr, f); return Flow::Normal;
        case StmtKind::While: {
            const auto& w = static_cast<const While&>(st);
            while (eval(*w.cond, f).bits != 0) {
                Flow flow = exec_block(*w.body, f);
                if (flow == Flow::Break) break;
                if (flow == Flow::Return) return flow;
            }
            return Flow::Normal;
        }
        case StmtKind::Break: return Flow::Break;
        case StmtKind::Continue: return Flow::Continue;
        }
        return Flow::Normal;
    }

    // return Result{val: v, err: c, is_error: b}: fields in source order;
    // a missing one is zero; is_error is true when nonzero.
    Value eval_result_literal(const StructLit& lit, Frame& f) {
        const Type* rt = f.fn->ret;
        Value val = zero(rt);
        int64_t err = 0;
        bool is_error = false;
        for (const FieldInit& fi : lit.fields) {
            Value v = eval(*fi.value, f);
            switch (s_.field_init[fi.value->id].kind) {
            case MemberKind::Value: val = std::move(v); break;
            case MemberKind::Error: err = as_signed(v.bits); break;
            case MemberKind::IsError: is_error = v.bits != 0; break;
            case MemberKind::None:
            case MemberKind::Field: assert(false && "the checker rejects other Result fields"); break;
            }
        }
        Value r = ok_result(std::move(val), rt);
        r.is_error = is_error;
        r.err = err;
        return r;
    }

    // ------------------------------------------------------------------
    // Expressions.
    // ------------------------------------------------------------------
    Value eval(const Expr& e, Frame& f) {
        check_stack(e.loc);
        switch (e.kind) {
        case ExprKind::IntLit:
            return int_value(normalize(static_cast<const IntLit&>(e).value, s_.type_of(e)));
        case ExprKind::StrLit:
            // A C string for an extern (the checker allows no other use):
            // the tree outlives the run, so its bytes stay put.
            return int_value(reinterpret_cast<uintptr_t>(static_cast<const StrLit&>(e).value.c_str()));
        case ExprKind::BoolLit: return int_value(static_cast<const BoolLit&>(e).value ? 1 : 0);
        case ExprKind::Name: {
            int32_t sl = s_.slot[e.id];
            assert(sl >= 0);
            const SlotInfo& si = f.fn->slots[static_cast<size_t>(sl)];
            const Value& v = f.slots[static_cast<size_t>(sl)];
            if (si.heap) return load_heap(gate_, v, si.type, si.name, e.loc);
            return v;
        }
        case ExprKind::Unary: {
            const auto& u = static_cast<const Unary&>(e);
            Value v = eval(*u.operand, f);
            if (u.op == UnaryOp::Not) return int_value(v.bits == 0 ? 1 : 0);
            const Type* t = s_.type_of(e);
            if (t->kind == TypeKind::Tbb) return int_value(v.bits == tbb_err(t) ? v.bits : normalize(0 - v.bits, t));
            return int_value(normalize(0 - v.bits, t));
        }
        case ExprKind::Binary: return eval_binary(static_cast<const Binary&>(e), f);
        case ExprKind::Assign: eval_assign(static_cast<const Assign&>(e), f); return Value{};
        case ExprKind::Call: {
            const auto& c = static_cast<const Call&>(e);
            std::vector<Value> args;
            args.reserve(c.args.size());
            for (const auto& a : c.args) args.push_back(eval(*a, f));  // left to right, by value
            const Callee& callee = s_.callee[c.id];
            switch (callee.kind) {
            case Callee::Kind::Builtin: return call_builtin(c, args);
            case Callee::Kind::Extern: return call_extern(c, args);
            case Callee::Kind::Func: return call(callee.fn, std::move(args), c.loc);
            case Callee::Kind::None: break;
            }
            assert(false && "unresolved call in a checked program");
            return Value{};
        }
        case ExprKind::Member: {
            const auto& m = static_cast<const Member&>(e);
            const MemberInfo& mi = s_.member[m.id];
            Value obj = eval(*m.object, f);
            switch (mi.kind) {
            case MemberKind::Field: return std::move(obj.sub.at(mi.field));
            case MemberKind::IsError: return int_value(obj.is_error ? 1 : 0);
            case MemberKind::Value: return obj.sub.empty() ? Value{} : std::move(obj.sub[0]);
            case MemberKind::Error: return int_value(static_cast<uint64_t>(obj.err));
            case MemberKind::None: break;
            }
            assert(false && "unresolved member in a checked program");
            return Value{};
        }
        case ExprKind::StructLit: {
            const auto& lit = static_cast<const StructLit&>(e);
            assert(s_.struct_lit[lit.id]);
            Value v = zero(s_.type_of(e));
            for (const FieldInit& fi : lit.fields) v.sub[s_.field_init[fi.value->id].field] = eval(*fi.value, f);
            return v;
        }
        case ExprKind::Raw: {
            // The value without looking at is_error: a failed Result holds
            // the zero value (§5.5).
            Value r = eval(*static_cast<const Raw&>(e).operand, f);
            return r.sub.empty() ? Value{} : std::move(r.sub[0]);
        }
        case ExprKind::Drop: eval(*static_cast<const Drop&>(e).operand, f); return Value{};
        case ExprKind::Cast: {
            // The checker allowed only integer ↔ integer (a handle is one) and
            // pointer ↔ pointer or 64-bit integer: the word, cut to the target.
            // The word keeps its identity (an alias made by a cast).
            const Value v = eval(*static_cast<const Cast&>(e).operand, f);
            const Type* t = s_.type_of(e);
            Value out = int_value(t->is_integer() ? normalize(v.bits, t) : v.bits);
            out.tag = v.tag;
            return out;
        }
        case ExprKind::Index: {
            const auto& ix = static_cast<const Index&>(e);
            const Value base = eval(*ix.object, f);
            return load_element(gate_, base, eval(*ix.index, f).bits, s_.type_of(e), ix.loc);
        }
        }
        return Value{};
    }

    void eval_assign(const Assign& a, Frame& f) {
        Value v = eval(*a.value, f);
        if (a.target->kind == ExprKind::Index) {
            const auto& ix = static_cast<const Index&>(*a.target);
            const Value base = eval(*ix.object, f);
            store_element(gate_, base, eval(*ix.index, f).bits, s_.type_of(*a.target), v, ix.loc);
            return;
        }
        if (a.target->kind == ExprKind::Name) {
            int32_t sl = s_.slot[a.target->id];
            const SlotInfo& si = f.fn->slots[static_cast<size_t>(sl)];
            if (si.heap) store_heap(gate_, f.slots[static_cast<size_t>(sl)], 0, si.type, v, si.name, a.loc);
            else f.slots[static_cast<size_t>(sl)] = std::move(v);
            return;
        }
        const auto& m = static_cast<const Member&>(*a.target);
        int32_t sl = s_.slot[m.object->id];
        const SlotInfo& si = f.fn->slots[static_cast<size_t>(sl)];
        uint32_t fi = s_.member[m.id].field;
        if (si.heap) {
            const FieldInfo& field = si.type->st->fields[fi];
            store_heap(gate_, f.slots[static_cast<size_t>(sl)], field.offset, field.type, v, si.name, a.loc);
        } else {
            f.slots[static_cast<size_t>(sl)].sub.at(fi) = std::move(v);
        }
    }

    Value eval_binary(const Binary& b, Frame& f) {
        if (b.op == BinaryOp::And) {
            if (eval(*b.lhs, f).bits == 0) return int_value(0);
            return int_value(eval(*b.rhs, f).bits != 0 ? 1 : 0);
        }
        if (b.op == BinaryOp::Or) {
            if (eval(*b.lhs, f).bits != 0) return int_value(1);
            return int_value(eval(*b.rhs, f).bits != 0 ? 1 : 0);
        }
        const uint64_t x = eval(*b.lhs, f).bits;
        const uint64_t y = eval(*b.rhs, f).bits;
        const Type* t = s_.operand_type[b.id];
        assert(t);
        uint64_t w = 0;
        if (!binary_word(b.op, x, y, t, w)) throw Fault{b.loc, "Division by zero", NPK_FAULT_DIVISION_BY_ZERO};
        return int_value(w);
    }

    // ------------------------------------------------------------------
    // Drops (§9.3).
    // ------------------------------------------------------------------
    // pass / fail / return, after the operand was evaluated: everything
    // every active block registered, in exit_schedule's order (all drops
    // but the handed-over binding's, then all defers). The blocks are
    // emptied first, so that nothing runs again as they unwind.
    void leave_function(const Leave& l, Frame& f) {
        const std::vector<ExitEntry> todo = exit_schedule(f.scopes, ExitHow::Leave, moved_slot(l, s_));
        observe_exit(f.fn->decl, l.loc, ExitHow::Leave, todo);
        for (ScopeRecord& r : f.scopes) r.entries.clear();
        run_schedule(todo, f);
    }

    void run_drop(const ExitEntry& e, Frame& f) {
        const SlotInfo& si = f.fn->slots[static_cast<size_t>(e.slot)];
        const Value& v = f.slots[static_cast<size_t>(e.slot)];
        if (opts_.trace_drops)
            trace_drop(prog_, e.kind, e.kind == DropKind::Impl ? si.type->st->name : "", si.name, f.fn->display,
                       e.decl->name_loc);
        if (e.kind != DropKind::Impl) {
            // Through the gate like any release: the program may have
            // released the binding already, through an alias.
            const RuntimeRole role = release_role(e.kind);
            const std::vector<GateWord> w{{v.bits, v.tag}};
            const std::string what = "drop(" + si.name + ")";
            guard(role, what, w, e.decl->name_loc);
            gate_.before();
            uint64_t r = release_raii(e.kind, v.bits);
            gate_.after(role, what, w, r, program_site(e.decl->name_loc));
            return;
        }
        Value self = si.heap ? load_heap(gate_, v, si.type, si.name, e.decl->loc) : v;
        call(s_.drop_methods.at(si.type->st), {std::move(self)}, e.decl->loc);
    }

    const Program& prog_;
    const Sema& s_;
    const Options& opts_;
    Diagnostics& diag_;
    const DropSwitches raii_;
    ExternTable externs_;
    RuntimeGate gate_{diag_};
    int depth_ = 0;
    uintptr_t stack_base_ = 0;
    Frame* frame_ = nullptr;   // the frame whose scope is being walked
    struct Site {
        Loc at;
        const FuncInfo* fn;  // the function called there
    };
    std::vector<Site> call_sites_;  // of the interpreted calls under way, outermost first
    std::unique_ptr<Fault> rejection_;  // a refused checked call, raised when its caller returns
    int rejection_depth_ = 0;
};

struct Job {
    Interp* interp;
    int status;
};

void* run_job(void* arg) {
    auto* job = static_cast<Job*>(arg);
    try {
        job->status = job->interp->run();
    } catch (const std::bad_alloc&) {
        // Nothing here may allocate: the message is a constant.
        std::fflush(stdout);
        std::fputs("npk: error: Out of memory while running the program\n", stderr);
        job->status = kStatusOutOfMemory;
    }
    return nullptr;
}

}  // namespace

int run_program(const ast::Program& prog, const Sema& sema, const Options& opts, Diagnostics& diag) {
    Interp in(prog, sema, opts, diag);
    Job job{&in, 1};
    pthread_attr_t attr;
    pthread_t thread;
    int rc = pthread_attr_init(&attr);
    if (rc == 0) {
        rc = pthread_attr_setstacksize(&attr, kInterpStack);
        if (rc == 0) rc = pthread_create(&thread, &attr, run_job, &job);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        diag.error({}, "", "Cannot start the interpreter thread (" + std::to_string(kInterpStack >> 20) +
                               " MiB stack): " + std::strerror(rc));
        return 1;
    }
    pthread_join(thread, nullptr);
    return job.status;
}

}  // namespace npk
