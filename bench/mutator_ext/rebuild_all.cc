// The mutator of bench/mutator.py: rebuilds every node of a PrimFunc's body. Every integer
// constant is replaced by a new, equal IntImm (through TVM's constructor), so the copy-on-write
// mutator must rebuild each of its ancestors up to the root.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>

TVM_EXTEND_EXTENSION(bench_mutator, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

class RebuildAll : public StmtExprMutator {
 public:
  Expr VisitExpr_(const IntImm& op) override { return Expr(tvm_extend::ir::ShallowCopy(op)); }
};

class CountNodes : public StmtExprVisitor {
 public:
  int64_t count = 0;
  void VisitExpr(const Expr& e) override {
    ++count;
    StmtExprVisitor::VisitExpr(e);
  }
  void VisitStmt(const Stmt& s) override {
    ++count;
    StmtExprVisitor::VisitStmt(s);
  }
};

tvm::ffi::ObjectRef Rebuild(tvm::ffi::ObjectRef func) {
  PrimFunc f(func);
  return PrimFunc::Make(f.params(), RebuildAll().VisitStmt(f.body()), f.ret_type(), f.attrs());
}

int64_t Count(tvm::ffi::ObjectRef func) {
  CountNodes counter;
  counter.VisitStmt(PrimFunc(func).body());
  return counter.count;
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("bench_mutator.rebuild_all", Rebuild);
TVM_EXTEND_REGISTER_FUNC("bench_mutator.count_nodes", Count);
