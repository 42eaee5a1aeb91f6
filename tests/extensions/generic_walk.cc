// Its views are generated without prim.Mul and prim.Add (as if TVM had added those types after
// the extension was built): the functors must still walk and rebuild inside them, by reflection
// (tests/python/test_across_releases.py).
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>

#include <string>

TVM_EXTEND_EXTENSION(generic_walk, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::ir::NodeRef;

// The names of the variables an expression uses, in visiting order.
std::string VarsOf(tvm::ffi::ObjectRef expr) {
  struct Collect : StmtExprVisitor {
    std::string names;
    void VisitExpr_(const Var& op) override { names += std::string(op.name()) + " "; }
  } collect;
  collect.VisitExpr(NodeRef(expr).Downcast<Expr>());
  return collect.names;
}

// Every use of a variable named `from` replaced by `to`.
tvm::ffi::ObjectRef Rename(tvm::ffi::ObjectRef expr, std::string from, tvm::ffi::ObjectRef to) {
  struct Replace : StmtExprMutator {
    std::string from;
    Expr to;
    Expr VisitExpr_(const Var& op) override {
      return std::string(op.name()) == from ? to : Expr(op);
    }
  } replace;
  replace.from = from;
  replace.to = NodeRef(to).Downcast<Expr>();
  return replace.VisitExpr(NodeRef(expr).Downcast<Expr>());
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("generic_walk.vars_of", VarsOf);
TVM_EXTEND_REGISTER_FUNC("generic_walk.rename", Rename);
