/*!
 * \file unroll.cc
 * \brief tir_passes.transform.UnrollByAnnotation(max_steps): unroll the loops annotated for
 *        unrolling (`for i in T.unroll(n)`) whose constant trip count times body size stays
 *        within max_steps statements.
 *
 * Semantics follow TVM's own UnrollLoop with its default configuration, which the tests check on
 * a corpus of generated programs: inner loops first; the loop variable is replaced by
 * `min + i` (constants folded) without further simplification; nested sequences are flattened.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/ir/tir_pass.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "passes.h"

namespace tir_passes {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

constexpr int32_t kUnrolled = 3;  // tvm.tirx.ForKind.UNROLLED

/*!
 * \brief Replaces one variable by an expression in a copy of a loop body. Every variable the
 *        body defines (loop variables, bindings, lets) is renewed, so that each unrolled copy
 *        defines its own (TIR defines every variable once).
 */
class SubstituteVar : public StmtExprMutator {
 public:
  SubstituteVar(const Var& var, Expr value) { map_[var.get()] = std::move(value); }

  Expr VisitExpr_(const Var& op) override {
    auto it = map_.find(op.get());
    if (it != map_.end()) return it->second;
    return op;
  }

  /*! \brief A fresh variable standing for `var` in this copy. */
  Var Renew(const Var& var) {
    Var fresh(tvm_extend::ir::ShallowCopy(var), tvm_extend::ir::Unchecked{});
    map_[var.get()] = fresh;
    return fresh;
  }

  Stmt VisitStmt_(const For& op) override {
    Var fresh = Renew(op.loop_var());
    return VisitChildren(op).with_loop_var(fresh);
  }
  Stmt VisitStmt_(const Bind& op) override {
    Var fresh = Renew(op.var());
    return VisitChildren(op).with_var(fresh);
  }
  Expr VisitExpr_(const Let& op) override {
    Var fresh = Renew(op.var());
    return VisitChildren(op).with_var(fresh);
  }

 private:
  std::unordered_map<const tvm::ffi::Object*, Expr> map_;
};

/*! \brief Appends `stmt` to `out`, splicing the statements of a SeqStmt in. */
void AppendFlat(const Stmt& stmt, std::vector<Stmt>* out) {
  if (SeqStmt seq = stmt.as<SeqStmt>(); seq.defined()) {
    for (Stmt s : seq.seq()) AppendFlat(s, out);
  } else {
    out->push_back(stmt);
  }
}

Stmt MakeSeq(const std::vector<Stmt>& stmts) {
  if (stmts.size() == 1) return stmts[0];
  tvm::ffi::Array<tvm::ffi::ObjectRef> items(stmts.begin(), stmts.end());
  return SeqStmt::Make(tvm_extend::ir::List<Stmt>(items));
}

/*! \brief Number of statements (not counting sequences) in `stmt`, to bound the unrolling. */
int64_t CountStatements(const Stmt& stmt) {
  struct Counter : StmtExprVisitor {
    int64_t count = 0;
    void VisitStmt(const Stmt& s) override {
      if (!s.as<SeqStmt>().defined()) ++count;
      StmtExprVisitor::VisitStmt(s);
    }
  } counter;
  counter.VisitStmt(stmt);
  return counter.count;
}

class Unroller : public StmtExprMutator {
 public:
  explicit Unroller(int64_t max_steps) : max_steps_(max_steps) {}

  Stmt VisitStmt_(const For& op) override {
    For loop = VisitChildren(op);  // inner loops first
    IntImm min = loop.min().as<IntImm>(), extent = loop.extent().as<IntImm>();
    if (loop.kind() != kUnrolled || !min.defined() || !extent.defined() || loop.step().defined()) {
      return loop;
    }
    int64_t trips = extent.value();
    if (trips <= 0) return loop;
    if (max_steps_ >= 0 && trips * CountStatements(loop.body()) > max_steps_) return loop;
    std::vector<Stmt> unrolled;
    for (int64_t i = 0; i < trips; ++i) {
      Expr value = loop.min() + i;  // folds to a constant, as TVM's `min + i` does
      AppendFlat(SubstituteVar(loop.loop_var(), value).VisitStmt(loop.body()), &unrolled);
    }
    return MakeSeq(unrolled);
  }

  Stmt VisitStmt_(const SeqStmt& op) override {
    SeqStmt seq = VisitChildren(op);
    if (seq.same_as(op)) return seq;
    std::vector<Stmt> flat;
    for (Stmt s : seq.seq()) AppendFlat(s, &flat);
    return MakeSeq(flat);
  }

 private:
  int64_t max_steps_;
};
}  // namespace

tvm::ffi::ObjectRef UnrollByAnnotation(int64_t max_steps) {
  return tvm_extend::transform::MakePrimFuncPass(
      "tir_passes.transform.UnrollByAnnotation",
      [max_steps](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func,
                           [&](const Stmt& body) { return Unroller(max_steps).VisitStmt(body); });
      },
      0);
}

}  // namespace tir_passes

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("tir_passes.transform.UnrollByAnnotation",
                                           tir_passes::UnrollByAnnotation);
