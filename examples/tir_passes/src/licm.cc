/*!
 * \file licm.cc
 * \brief tir_passes.transform.LoopInvariantCodeMotion: computations in a loop body that do not
 *        change from one iteration to the next are computed once, before the loop.
 *
 * For each loop (inner loops first), the maximal subexpressions of its body that use no variable
 * defined inside the loop, read no buffer and call nothing are bound to a new variable
 * (`licm_N: T.let[...] = expr`) placed before the loop; equal occurrences (TVM's structural
 * equality) share one binding. Division by a non-constant is never hoisted, since it could trap
 * where the original code did not run it.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_pass.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "passes.h"

namespace tir_passes {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

/*! \brief The variables a statement defines: loop variables and bindings. */
std::unordered_set<const tvm::ffi::Object*> DefinedVars(const Stmt& stmt) {
  struct Collector : StmtExprVisitor {
    std::unordered_set<const tvm::ffi::Object*> vars;
    void VisitStmt_(const For& op) override {
      vars.insert(op.loop_var().get());
      StmtExprVisitor::VisitStmt_(op);
    }
    void VisitStmt_(const Bind& op) override {
      vars.insert(op.var().get());
      StmtExprVisitor::VisitStmt_(op);
    }
    void VisitExpr_(const Let& op) override {
      vars.insert(op.var().get());
      StmtExprVisitor::VisitExpr_(op);
    }
    void VisitStmt_(const SBlock& op) override {
      for (IterVar iv : op.iter_vars()) vars.insert(iv.var().get());
      StmtExprVisitor::VisitStmt_(op);
    }
  } collector;
  collector.VisitStmt(stmt);
  return collector.vars;
}

/*! \brief Whether an expression can be computed before the loop, and is worth it. */
class Invariance : public StmtExprVisitor {
 public:
  explicit Invariance(const std::unordered_set<const tvm::ffi::Object*>& inside)
      : inside_(inside) {}
  bool Hoistable(const Expr& e) {
    ok_ = true;
    vars_ = 0;
    leaf_ = e.as<Var>().defined() || e.as<IntImm>().defined() || e.as<FloatImm>().defined() ||
            e.as<StringImm>().defined();
    VisitExpr(e);
    return ok_ && !leaf_ && vars_ > 0;
  }
  void VisitExpr_(const Var& op) override {
    ++vars_;
    if (inside_.count(op.get())) ok_ = false;
  }
  void VisitExpr_(const TensorLoad&) override { ok_ = false; }
  void VisitExpr_(const Call&) override { ok_ = false; }
  void VisitExpr_(const Let&) override { ok_ = false; }
  void VisitExpr_(const Select&) override { ok_ = false; }
  void VisitExpr_(const Div& op) override { Divide(op.b()), StmtExprVisitor::VisitExpr_(op); }
  void VisitExpr_(const Mod& op) override { Divide(op.b()), StmtExprVisitor::VisitExpr_(op); }
  void VisitExpr_(const FloorDiv& op) override { Divide(op.b()), StmtExprVisitor::VisitExpr_(op); }
  void VisitExpr_(const FloorMod& op) override { Divide(op.b()), StmtExprVisitor::VisitExpr_(op); }

 private:
  void Divide(const Expr& divisor) {
    IntImm c = divisor.as<IntImm>();
    if (!c.defined() || c.value() == 0) ok_ = false;
  }
  const std::unordered_set<const tvm::ffi::Object*>& inside_;
  bool ok_ = true, leaf_ = false;
  int vars_ = 0;
};

class Hoister : public StmtExprMutator {
 public:
  Stmt VisitStmt_(const For& op) override {
    For loop = VisitChildren(op);  // inner loops first
    std::unordered_set<const tvm::ffi::Object*> inside = DefinedVars(loop.body());
    inside.insert(loop.loop_var().get());
    Replace replace(this, inside);
    Stmt body = replace.VisitStmt(loop.body());
    if (replace.bindings.empty()) return loop;
    std::vector<tvm::ffi::ObjectRef> seq;
    for (const auto& [var, value] : replace.bindings) seq.push_back(Bind::Make(var, value));
    seq.push_back(For::Make(loop.loop_var(), loop.min(), loop.extent(), loop.kind(), body,
                            loop.thread_binding(), loop.annotations(), loop.step()));
    return SeqStmt::Make(tvm_extend::ir::List<Stmt>(tvm::ffi::Array<tvm::ffi::ObjectRef>(seq)));
  }

 private:
  /*! \brief Replaces the hoistable subexpressions of one loop body by new variables. */
  struct Replace : StmtExprMutator {
    Replace(Hoister* owner, const std::unordered_set<const tvm::ffi::Object*>& inside)
        : owner(owner), invariance(inside) {}
    Expr VisitExpr(const Expr& e) override {
      if (!e.defined() || !invariance.Hoistable(e)) return StmtExprMutator::VisitExpr(e);
      for (const auto& [var, value] : bindings) {
        if (StructuralEqual(value, e)) return var;
      }
      PrimType type = e.ty().as<PrimType>();
      if (!type.defined()) return StmtExprMutator::VisitExpr(e);
      Var var = Var::Make("licm_" + std::to_string(owner->count_++), type);
      bindings.emplace_back(var, e);
      return var;
    }
    // A statement's own variable definitions are not expressions to hoist.
    Stmt VisitStmt_(const Bind& op) override {
      Expr value = VisitExpr(op.value());
      return value.same_as(op.value()) ? Stmt(op) : Stmt(Bind::Make(op.var(), value));
    }
    Hoister* owner;
    Invariance invariance;
    std::vector<std::pair<Var, Expr>> bindings;
  };
  int64_t count_ = 0;
};
}  // namespace

tvm::ffi::ObjectRef LoopInvariantCodeMotion() {
  return tvm_extend::transform::MakePrimFuncPass(
      "tir_passes.transform.LoopInvariantCodeMotion",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func, [&](const Stmt& body) { return Hoister().VisitStmt(body); });
      },
      0);
}

}  // namespace tir_passes

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("tir_passes.transform.LoopInvariantCodeMotion",
                                           tir_passes::LoopInvariantCodeMotion);
