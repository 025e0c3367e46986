// asmjit_clients.cpp — the workloads on asmjit's x86::Compiler, directly
// (see asmjit_clients.h). x86-64 only: the rows that use it run there.
#include "asmjit_clients.h"

#include <asmjit/x86.h>

#include <vector>

namespace bench {

using namespace asmjit;

struct AsmjitClient::State {
    x86::Compiler cc;
};

AsmjitClient::AsmjitClient() : s_(new State) {}
AsmjitClient::~AsmjitClient() {
    code_.reset();
    delete s_;
}

bool AsmjitClient::begin(const Environment& env) {
    code_.reset(ResetPolicy::kSoft);  // detaches the compiler; its zones stay for the next function
    return code_.init(env) == kErrorOk && code_.attach(&s_->cc) == kErrorOk;
}

bool AsmjitClient::affine(const Environment& env) {
    if (!begin(env)) return false;
    x86::Compiler& cc = s_->cc;
    FuncNode* fn = cc.addFunc(FuncSignatureT<int64_t, int64_t>(CallConvId::kHost));
    const x86::Gp x = cc.newInt64("x");
    fn->setArg(0, x);
    cc.imul(x, x, kAffineK);
    cc.add(x, kAffineC);
    cc.ret(x);
    cc.endFunc();
    return cc.finalize() == kErrorOk;
}

bool AsmjitClient::small(const SmallFn& f, const Environment& env) {
    if (!begin(env)) return false;
    x86::Compiler& cc = s_->cc;
    FuncNode* fn = cc.addFunc(FuncSignatureT<int64_t, int64_t, int64_t>(CallConvId::kHost));
    x86::Gp v[kSmallVars];
    for (x86::Gp& r : v) r = cc.newInt64();
    fn->setArg(0, v[0]);
    fn->setArg(1, v[1]);
    for (const SmallOp& o : f.ops) {
        const x86::Gp d = v[o.dst], a = v[o.a], b = v[o.b];
        // dst = a op b in two-operand form: through a temporary when dst is b but not a.
        const x86::Gp t = (o.dst == o.b && o.dst != o.a) ? cc.newInt64() : d;
        switch (o.kind) {
            case SmallOp::mul_imm: cc.imul(t, a, o.imm); break;
            default: cc.mov(t, a); break;
        }
        switch (o.kind) {
            case SmallOp::add: cc.add(t, b); break;
            case SmallOp::sub: cc.sub(t, b); break;
            case SmallOp::mul: cc.imul(t, b); break;
            case SmallOp::and_: cc.and_(t, b); break;
            case SmallOp::or_: cc.or_(t, b); break;
            case SmallOp::xor_: cc.xor_(t, b); break;
            case SmallOp::add_imm: cc.add(t, o.imm); break;
            case SmallOp::mul_imm: break;
            case SmallOp::xor_imm: cc.xor_(t, o.imm); break;
            case SmallOp::shl_imm: cc.shl(t, o.imm); break;
        }
        if (t != d) cc.mov(d, t);
    }
    cc.ret(v[f.ret]);
    cc.endFunc();
    return cc.finalize() == kErrorOk;
}

bool AsmjitClient::bf(const std::vector<BfOp>& ops, const Environment& env) {
    if (!begin(env)) return false;
    x86::Compiler& cc = s_->cc;
    FuncNode* fn = cc.addFunc(FuncSignatureT<void, uint8_t*>(CallConvId::kHost));
    const x86::Gp p = cc.newIntPtr("p");
    fn->setArg(0, p);
    std::vector<Label> open;  // per open bracket: its body and its end
    for (const BfOp& o : ops) {
        switch (o.kind) {
            case BfOp::add: cc.add(x86::byte_ptr(p), o.n & 0xFF); break;
            case BfOp::move: cc.add(p, o.n); break;
            case BfOp::clear: cc.mov(x86::byte_ptr(p), 0); break;
            case BfOp::open: {
                const Label body = cc.newLabel(), end = cc.newLabel();
                cc.cmp(x86::byte_ptr(p), 0);
                cc.je(end);
                cc.bind(body);
                open.push_back(body);
                open.push_back(end);
                break;
            }
            case BfOp::close: {
                const Label end = open.back();
                open.pop_back();
                const Label body = open.back();
                open.pop_back();
                cc.cmp(x86::byte_ptr(p), 0);
                cc.jne(body);
                cc.bind(end);
                break;
            }
            case BfOp::out: {
                const x86::Gp c = cc.newInt32();
                cc.movzx(c, x86::byte_ptr(p));
                InvokeNode* call = nullptr;
                cc.invoke(&call, imm(reinterpret_cast<void*>(&bench_bf_putc)), FuncSignatureT<void, int32_t>(CallConvId::kHost));
                call->setArg(0, c);
                break;
            }
            case BfOp::in: {
                const x86::Gp c = cc.newInt32();
                InvokeNode* call = nullptr;
                cc.invoke(&call, imm(reinterpret_cast<void*>(&bench_bf_getc)), FuncSignatureT<int32_t>(CallConvId::kHost));
                call->setRet(0, c);
                cc.mov(x86::byte_ptr(p), c.r8());
                break;
            }
        }
    }
    cc.ret();
    cc.endFunc();
    return cc.finalize() == kErrorOk;
}

}  // namespace bench
