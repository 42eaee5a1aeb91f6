// An extension that declares its place in TVM's default Relax pipeline
// (TVM_EXTEND_CONTRIBUTE_PASS): loading it makes a plain tvm.compile run its pass before
// LegalizeOps; unloading it withdraws the pass. Built twice: relax_contrib, and
// relax_contrib_bad, whose anchor is no pass of the pipeline (its load is refused).
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/relax_functor.h>

#include <atomic>

#ifndef CONTRIB_EXT
#define CONTRIB_EXT relax_contrib
#define CONTRIB_EXT_NAME "relax_contrib"
#define CONTRIB_ANCHOR "LegalizeOps"
#endif

TVM_EXTEND_EXTENSION(CONTRIB_EXT, "1.0.0");

namespace {
using namespace tvm_extend::relax;  // NOLINT(build/namespaces)
using tvm::ffi::ObjectRef;

std::atomic<int64_t> runs{0};

// R.multiply(x, x) -> R.power(x, 2): how often it ran is counted.
class SquareToPower : public ExprMutator {
 public:
  using ExprMutator::ExprMutator;
  Expr VisitExpr_(const Call& call) override {
    Call c = VisitChildren(call);
    if (IsOp(c, "relax.multiply") && c.args()[0].same_as(c.args()[1])) {
      Expr x = c.args()[0];
      TensorType t = x.ty().as<TensorType>();
      if (t.defined() && t.dtype().defined()) {
        return MakeCall("relax.power", {x, MakeConstant(2, t.dtype().dtype())});
      }
    }
    return c;
  }
};

ObjectRef SquareToPowerPass(ObjectRef func, ObjectRef mod, ObjectRef) {
  ++runs;
  return SquareToPower(IRModule(mod)).Rewrite(Function(func));
}
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS(CONTRIB_EXT_NAME ".transform.SquareToPower",
                                        SquareToPowerPass, 0);
TVM_EXTEND_CONTRIBUTE_PASS(CONTRIB_EXT_NAME ".transform.SquareToPower", "relax", "default",
                           "before", CONTRIB_ANCHOR);
TVM_EXTEND_REGISTER_FUNC(CONTRIB_EXT_NAME ".runs", []() -> int64_t { return runs.load(); });
}  // namespace
