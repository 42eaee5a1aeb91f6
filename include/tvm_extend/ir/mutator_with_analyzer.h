/*!
 * \file tvm_extend/ir/mutator_with_analyzer.h
 * \brief The kit's visitor and mutator with an arithmetic analyzer that knows, at each node,
 *        what TVM's IRVisitorWithAnalyzer / IRMutatorWithAnalyzer know there.
 *
 * \code
 * class DropDeadBranches : public IRMutatorWithAnalyzer {
 *  public:
 *   using IRMutatorWithAnalyzer::IRMutatorWithAnalyzer;
 *   Expr VisitExpr_(const LT& op) override { return analyzer_->Simplify(op); }
 * };
 * ArithAnalyzer analyzer;
 * Stmt body = DropDeadBranches(&analyzer).VisitStmt(func.body());
 * \endcode
 *
 * What is in force while a node's children are visited:
 * - For: the loop variable bound to [min, min + extent) (loops with a step other than 1 are
 *   not bound); SBlock: each iteration variable bound to its domain; AttrStmt
 *   "thread_extent"/"virtual_thread": the thread variable bound to [0, value).
 * - IfThenElse, Select and `if_then_else` calls: `cond` in the then branch, `!cond` in the
 *   else branch (`likely(c)` counts as `c`).
 * - AssertStmt: its condition, for the statements after it in the same sequence.
 * - Bind and Let: the variable bound to its (visited) value when that value is pure.
 * The mutator also folds: a condition that the analyzer simplifies to a constant keeps only the
 * taken branch (an IfThenElse whose condition is false and that has no else becomes
 * `Evaluate(0)`, as in TVM).
 *
 * The analyzer is the caller's and must outlive the visitor; neither is thread-safe.
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_MUTATOR_WITH_ANALYZER_H_
#define TVM_EXTEND_IR_MUTATOR_WITH_ANALYZER_H_

#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/builtin.h>
#include <tvm_extend/ir/op_attr.h>
#include <tvm_extend/ir/tir.h>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace tir {
namespace with_analyzer_detail {

/*! \brief `c` of `likely(c)`, else `cond`. */
inline Expr StripLikely(const Expr& cond) {
  return IsOp(cond, builtin::likely()) ? Call(cond, ::tvm_extend::ir::Unchecked{}).args()[0] : cond;
}

/*! \brief The constant truth value of `cond` under what `analyzer` knows, if any. */
inline std::optional<bool> KnownTruth(ArithAnalyzer* analyzer, const Expr& cond) {
  IntImm c = analyzer->Simplify(cond).as<IntImm>();
  if (!c.defined()) return std::nullopt;
  return c.value() != 0;
}

inline Expr Negate(ArithAnalyzer* analyzer, const Expr& cond) {
  return analyzer->RewriteSimplify(Not::Make(cond));
}

inline void BindLoop(ArithAnalyzer* analyzer, const For& op) {
  IntImm step = op.step().as<IntImm>();
  if (op.step().defined() && !(step.defined() && step.value() == 1)) return;
  analyzer->Bind(op.loop_var(), RangeFromMinExtent(op.min(), op.extent()));
}

inline void BindBlockIters(ArithAnalyzer* analyzer, const SBlock& op) {
  for (IterVar iv : op.iter_vars()) {
    if (iv.defined() && iv.dom().defined()) analyzer->Bind(iv.var(), iv.dom());
  }
}

inline void BindThread(ArithAnalyzer* analyzer, const AttrStmt& op) {
  std::string key = op.attr_key();
  if (key != "thread_extent" && key != "virtual_thread") return;
  auto node = op.node().as<tvm::ffi::ObjectRef>();
  if (!node.has_value()) return;
  IterVar iv = ::tvm_extend::ir::NodeRef(*node).as<IterVar>();
  PrimType type = op.value().ty().as<PrimType>();
  if (!iv.defined() || !type.defined()) return;
  analyzer->Bind(iv.var(), RangeFromMinExtent(IntImm::Make(type.dtype(), 0), op.value()));
}

inline bool IsPure(const Expr& value) { return SideEffect(value) <= CallEffectKind::kPure; }

/*! \brief Constraints from AssertStmts, held until the enclosing statement is done. */
class AssertScopes {
 public:
  ~AssertScopes() { PopTo(0); }
  size_t Mark() const { return scopes_.size(); }
  void Push(ConstraintScope scope) { scopes_.push_back(std::move(scope)); }
  void PopTo(size_t mark) {
    while (scopes_.size() > mark) {
      scopes_.back().Exit();
      scopes_.pop_back();
    }
  }

 private:
  std::vector<ConstraintScope> scopes_;
};

/*!
 * \brief What the visitor and the mutator share: variable bindings of loops, blocks and
 *        threads, and AssertStmt constraints kept until the enclosing statement is done.
 */
template <typename Base>
class Bindings : public Base {
 public:
  using StmtResult = decltype(std::declval<Base&>().VisitStmt(std::declval<const Stmt&>()));
  explicit Bindings(ArithAnalyzer* analyzer) : analyzer_(analyzer) {}
  using Base::VisitExpr_;
  using Base::VisitStmt_;

  StmtResult VisitStmt(const Stmt& stmt) override {
    size_t mark = asserts_.Mark();
    // An assert's constraint outlives the assert itself, up to the end of its parent.
    struct PopAfter {
      AssertScopes* asserts;
      size_t mark;
      bool keep;
      ~PopAfter() {
        if (!keep) asserts->PopTo(mark);
      }
    } pop{&asserts_, mark, AssertStmt::IsInstance(stmt)};
    return Base::VisitStmt(stmt);
  }
  StmtResult VisitStmt_(const For& op) override {
    BindLoop(analyzer_, op);
    return Base::VisitStmt_(op);
  }
  StmtResult VisitStmt_(const SBlock& op) override {
    BindBlockIters(analyzer_, op);
    return Base::VisitStmt_(op);
  }
  StmtResult VisitStmt_(const AttrStmt& op) override {
    BindThread(analyzer_, op);
    return Base::VisitStmt_(op);
  }

 protected:
  /*! \brief Assume `cond` for the rest of the enclosing statement (an assert's effect). */
  void AssumeForRest(const Expr& cond) { asserts_.Push(analyzer_->Constrain(cond)); }
  ArithAnalyzer* analyzer_;

 private:
  AssertScopes asserts_;
};
}  // namespace with_analyzer_detail

/*! \brief StmtExprVisitor with the analyzer's knowledge kept current (see the file comment). */
class IRVisitorWithAnalyzer : public with_analyzer_detail::Bindings<StmtExprVisitor> {
 public:
  using Bindings::Bindings;
  using Bindings::VisitExpr_;
  using Bindings::VisitStmt_;

  void VisitStmt_(const Bind& op) override {
    VisitExpr(op.value());
    if (with_analyzer_detail::IsPure(op.value())) analyzer_->Bind(op.var(), op.value());
  }
  void VisitExpr_(const Let& op) override {
    VisitExpr(op.value());
    if (with_analyzer_detail::IsPure(op.value())) analyzer_->Bind(op.var(), op.value());
    VisitExpr(op.body());
  }
  void VisitStmt_(const AssertStmt& op) override {
    StmtExprVisitor::VisitStmt_(op);
    AssumeForRest(op.condition());
  }
  void VisitStmt_(const IfThenElse& op) override {
    VisitExpr(op.condition());
    Expr cond = with_analyzer_detail::StripLikely(op.condition());
    {
      auto scope = analyzer_->Constrain(cond);
      VisitStmt(op.then_case());
    }
    if (op.else_case().defined()) {
      auto scope = analyzer_->Constrain(with_analyzer_detail::Negate(analyzer_, cond));
      VisitStmt(op.else_case());
    }
  }
  void VisitExpr_(const Select& op) override {
    VisitExpr(op.condition());
    VisitBranches(op.condition(), op.true_value(), op.false_value());
  }
  void VisitExpr_(const Call& op) override {
    if (!IsOp(op, builtin::if_then_else()) || op.args().size() != 3) {
      return StmtExprVisitor::VisitExpr_(op);
    }
    VisitExpr(op.args()[0]);
    VisitBranches(op.args()[0], op.args()[1], op.args()[2]);
  }

 protected:
  void VisitBranches(const Expr& condition, const Expr& t, const Expr& f) {
    Expr cond = with_analyzer_detail::StripLikely(condition);
    {
      auto scope = analyzer_->Constrain(cond);
      VisitExpr(t);
    }
    auto scope = analyzer_->Constrain(with_analyzer_detail::Negate(analyzer_, cond));
    VisitExpr(f);
  }
};

/*! \brief StmtExprMutator with the analyzer's knowledge kept current (see the file comment). */
class IRMutatorWithAnalyzer : public with_analyzer_detail::Bindings<StmtExprMutator> {
 public:
  using Bindings::Bindings;
  using Bindings::VisitExpr_;
  using Bindings::VisitStmt_;

  Stmt VisitStmt_(const Bind& op) override {
    Bind out = VisitChildren(op);
    if (with_analyzer_detail::IsPure(out.value())) analyzer_->Bind(out.var(), out.value());
    return out;
  }
  Expr VisitExpr_(const Let& op) override {
    Expr value = VisitExpr(op.value());
    if (with_analyzer_detail::IsPure(value)) analyzer_->Bind(op.var(), value);
    Expr body = VisitExpr(op.body());
    if (value.same_as(op.value()) && body.same_as(op.body())) return op;
    return Let::Make(op.var(), value, body, op.span());
  }
  Stmt VisitStmt_(const AssertStmt& op) override {
    AssertStmt out = VisitChildren(op);
    AssumeForRest(out.condition());
    return out;
  }
  Stmt VisitStmt_(const IfThenElse& op) override {
    Expr condition = VisitExpr(op.condition());
    Expr cond = with_analyzer_detail::StripLikely(condition);
    std::optional<bool> known = with_analyzer_detail::KnownTruth(analyzer_, cond);
    if (known == true) return VisitStmt(op.then_case());
    if (known == false) {
      if (op.else_case().defined()) return VisitStmt(op.else_case());
      return Evaluate::Make(IntImm::Make(DLDataType{kDLInt, 32, 1}, 0));
    }
    Stmt then_case, else_case;
    {
      auto scope = analyzer_->Constrain(cond);
      then_case = VisitStmt(op.then_case());
    }
    if (op.else_case().defined()) {
      auto scope = analyzer_->Constrain(with_analyzer_detail::Negate(analyzer_, cond));
      else_case = VisitStmt(op.else_case());
    }
    if (condition.same_as(op.condition()) && then_case.same_as(op.then_case()) &&
        else_case.same_as(op.else_case())) {
      return op;
    }
    return IfThenElse::Make(condition, then_case, else_case, op.span());
  }
  Expr VisitExpr_(const Select& op) override {
    Expr condition = VisitExpr(op.condition());
    auto [t, f] = MutateBranches(condition, op.true_value(), op.false_value());
    if (!f.defined()) return t;  // folded
    if (!t.defined()) return f;
    if (condition.same_as(op.condition()) && t.same_as(op.true_value()) &&
        f.same_as(op.false_value())) {
      return op;
    }
    return Select::Make(condition, t, f, op.span());
  }
  Expr VisitExpr_(const Call& op) override {
    if (!IsOp(op, builtin::if_then_else()) || op.args().size() != 3) {
      return StmtExprMutator::VisitExpr_(op);
    }
    Expr condition = VisitExpr(op.args()[0]);
    auto [t, f] = MutateBranches(condition, op.args()[1], op.args()[2]);
    if (!f.defined()) return t;
    if (!t.defined()) return f;
    if (condition.same_as(op.args()[0]) && t.same_as(op.args()[1]) && f.same_as(op.args()[2])) {
      return op;
    }
    std::vector<Expr> args{condition, t, f};
    return Call::Make(op.ty(), op.op(),
                      ::tvm_extend::ir::List<Expr>(
                          tvm::ffi::Array<tvm::ffi::ObjectRef>(args.begin(), args.end())),
                      op.attrs(), op.ty_args(), op.span());
  }

 protected:
  /*!
   * \brief Visit the two branches of a conditional expression under `condition` and its
   *        negation. When the condition is known, only the taken branch is visited and the
   *        other comes back null.
   */
  std::pair<Expr, Expr> MutateBranches(const Expr& condition, const Expr& t, const Expr& f) {
    Expr cond = with_analyzer_detail::StripLikely(condition);
    std::optional<bool> known = with_analyzer_detail::KnownTruth(analyzer_, cond);
    if (known == true) return {VisitExpr(t), Expr()};
    if (known == false) return {Expr(), VisitExpr(f)};
    Expr new_t, new_f;
    {
      auto scope = analyzer_->Constrain(cond);
      new_t = VisitExpr(t);
    }
    auto scope = analyzer_->Constrain(with_analyzer_detail::Negate(analyzer_, cond));
    new_f = VisitExpr(f);
    return {new_t, new_f};
  }
};

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_MUTATOR_WITH_ANALYZER_H_
