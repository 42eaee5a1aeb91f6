/*!
 * \file ops.cc
 * \brief project_b.clamp(x, lo, hi): a TIR op with a lowering per target, a pass that lowers it,
 *        and a C++ function that builds a call of it.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/ir/tir_pass.h>
#include <tvm_extend/op/op.h>
#include <tvm_extend/transform/prim_func_pass.h>

#include <vector>

namespace project_b {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

tvm_extend::ir::GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> min_{"prim._OpMin"};
tvm_extend::ir::GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> max_{"prim._OpMax"};
tvm_extend::ir::GlobalFunction<Op(tvm::ffi::String)> get_op{"ir.GetOp"};

bool IsClamp(const Call& call) {
  Op op = call.op().as<Op>();
  return op.defined() && op.name() == "project_b.clamp";
}

// clamp(x, lo, hi) -> max(min(x, hi), lo)
Expr Expand(const Call& call) {
  auto args = call.args();
  return max_(min_(args[0], args[2], {}), args[1], {});
}

tvm::ffi::ObjectRef LowerClamp(tvm::ffi::ObjectRef call) { return Expand(Call(call)); }

class ClampLowerer : public StmtExprMutator {
 public:
  Expr VisitExpr_(const Call& op) override {
    Call call = VisitChildren(op);
    return IsClamp(call) ? Expand(call) : Expr(call);
  }
};

// The op from C++: a Call node of project_b.clamp.
tvm::ffi::ObjectRef MakeClamp(tvm::ffi::ObjectRef x, tvm::ffi::ObjectRef lo,
                              tvm::ffi::ObjectRef hi) {
  std::vector<tvm::ffi::ObjectRef> args{x, lo, hi};
  return Call::Make(Expr(x).ty(), get_op("project_b.clamp"),
                    tvm_extend::ir::List<Expr>(tvm::ffi::Array<tvm::ffi::ObjectRef>(args)), {}, {});
}

tvm::ffi::ObjectRef LowerOps() {
  return tvm_extend::transform::MakePrimFuncPass(
      "project_b.transform.LowerOps",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func, [](const Stmt& body) { return ClampLowerer().VisitStmt(body); });
      },
      0);
}
}  // namespace
}  // namespace project_b

TVM_EXTEND_REGISTER_OP("project_b.clamp", [] {
  return tvm_extend::op::OpSpec("clamp(x, lo, hi) = max(min(x, hi), lo)")
      .num_inputs(3)
      .attr("TCallEffectKind", int64_t{1})  // pure
      .lower("llvm", project_b::LowerClamp)
      .lower("ext_dev", project_b::LowerClamp);
});
TVM_EXTEND_REGISTER_FUNC("project_b.make_clamp", project_b::MakeClamp);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("project_b.transform.LowerOps", project_b::LowerOps);
