/*!
 * \file remove_no_op.cc
 * \brief tir_passes.transform.RemoveNoOp: statements that do nothing are removed, as TVM's
 *        `tirx.transform.RemoveNoOp()` does with its default configuration.
 *
 * - `T.evaluate(e)` goes when `e` writes nothing (TVM's call effects: at most ReadState);
 * - a loop goes when its extent is provably at most 0, or its body does nothing (what its
 *   bounds evaluate with side effects stays);
 * - an `if` with a constant condition becomes its branch; an empty branch is dropped (an empty
 *   then-branch turns the condition around); an `if` with nothing left keeps only the
 *   condition's side effects;
 * - an attribute whose body does nothing, and any `pragma_debug_skip_region`, goes;
 * - a store of the value already there (`A[i] = A[i]`, or what TVM's simplifier proves equal)
 *   goes;
 * - sequences are flattened, without their `T.evaluate(0)`; one left is unwrapped.
 * Bindings (`x: T.let = ...`) stay, as in TVM. The arithmetic analyzer is told what TVM's
 * IRMutatorWithAnalyzer tells it: loop ranges, pure bindings, and the branch conditions.
 */
#include <tvm/ffi/function.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/ir/tir_pass.h>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "passes.h"
#include "tir_helpers.h"

namespace tir_passes {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::ir::GlobalFunction;

GlobalFunction<tvm::ffi::ObjectRef(Analyzer, Expr, tvm::ffi::ObjectRef)> eval_set{
    "sym.AnalyzerIntSet"};
GlobalFunction<Expr(tvm::ffi::ObjectRef)> interval_max{"sym.IntervalSetGetMax"};
GlobalFunction<tvm::ffi::ObjectRef(Expr, Expr)> interval{"sym.intset_interval"};
GlobalFunction<Expr()> pos_inf{"sym.PosInf"};
GlobalFunction<Expr()> neg_inf{"sym.NegInf"};

bool IsConstInt(const Expr& e) { return e.as<IntImm>().defined(); }

/*! \brief TVM's is_no_op: nothing, `T.evaluate(<integer constant>)` or an empty sequence. */
bool IsNoOp(const Stmt& s) {
  if (!s.defined()) return true;
  if (Evaluate e = s.as<Evaluate>(); e.defined()) return IsConstInt(e.value());
  if (SeqStmt seq = s.as<SeqStmt>(); seq.defined()) return seq.seq().empty();
  return false;
}

class NoOpRemover : public StmtExprMutator {
 public:
  NoOpRemover() : set_analyzer_(analysis_detail::make_analyzer()) {}

  Stmt VisitStmt_(const Evaluate& op) override {
    return effects_.Of(op.value()) > CallEffectKind::kReadState ? Stmt(op) : NoOp();
  }

  Stmt VisitStmt_(const SeqStmt& op) override { return Flatten(VisitChildren(op).seq()); }

  Stmt VisitStmt_(const For& op) override {
    // TVM evaluates the extent over the enclosing loops' ranges and drops the loop when the
    // upper end is provably at most 0.
    tvm::ffi::Map<tvm::ffi::ObjectRef, tvm::ffi::ObjectRef> dom(loop_ranges_.begin(),
                                                                loop_ranges_.end());
    Expr max = interval_max(eval_set(set_analyzer_, op.extent(), dom));
    if (!max.same_as(pos_inf_) && !max.same_as(neg_inf_) && analyzer_.CanProve(max <= 0)) {
      return NoOp();
    }
    analyzer_.Bind(op.loop_var(), Range::Make(op.min(), op.extent()));
    loop_ranges_.emplace_back(op.loop_var(), interval(op.min(), op.min() + op.extent() - 1));
    For loop = VisitChildren(op);
    loop_ranges_.pop_back();
    if (IntImm extent = loop.extent().as<IntImm>(); extent.defined() && extent.value() == 0) {
      return NoOp();
    }
    return IsNoOp(loop.body()) ? EvaluateEffects({loop.min(), loop.extent()}) : Stmt(loop);
  }

  Stmt VisitStmt_(const IfThenElse& op) override {
    Expr cond = VisitExpr(op.condition());
    Expr real = cond;
    if (Call call = cond.as<Call>(); call.defined() && IsOp(call, "prim.likely")) {
      real = call.args()[0];
    }
    Stmt then_case, else_case;
    {
      ScopedConstraints scope(analyzer_);
      scope.Add(real);
      then_case = VisitStmt(op.then_case());
    }
    if (op.else_case().defined()) {
      ScopedConstraints scope(analyzer_);
      scope.Add(Not::Make(real));
      else_case = VisitStmt(op.else_case());
    }
    if (IntImm c = real.as<IntImm>(); c.defined() && (c.value() == 0 || c.value() == 1)) {
      if (c.value() == 1) return then_case;
      return else_case.defined() ? else_case : NoOp();
    }
    bool no_op_then = IsNoOp(then_case);
    if (else_case.defined()) {
      bool no_op_else = IsNoOp(else_case);
      if (no_op_then && no_op_else) return EvaluateEffects({cond});
      if (no_op_else) return IfThenElse::Make(cond, then_case, Stmt());
      if (no_op_then) return IfThenElse::Make(Not::Make(cond), else_case, Stmt());
    } else if (no_op_then) {
      return EvaluateEffects({cond});
    }
    if (cond.same_as(op.condition()) && then_case.same_as(op.then_case()) &&
        else_case.same_as(op.else_case())) {
      return op;
    }
    return IfThenElse::Make(cond, then_case, else_case);
  }

  Stmt VisitStmt_(const AttrStmt& op) override {
    if (op.attr_key() == "pragma_debug_skip_region") return NoOp();
    ScopedConstraints scope(analyzer_);
    if (op.attr_key() == "thread_extent" || op.attr_key() == "virtual_thread") {
      if (auto iv = op.node().as<tvm::ffi::ObjectRef>()) {
        IterVar var(*iv);
        analyzer_.Bind(var.var(), Range::Make(IntImm::Make(TypeOf(op.value()), 0), op.value()));
      }
    }
    AttrStmt attr = VisitChildren(op);
    return IsNoOp(attr.body()) ? EvaluateEffects({attr.value()}) : Stmt(attr);
  }

  Stmt VisitStmt_(const Bind& op) override {
    Bind bind = VisitChildren(op);
    if (effects_.Of(bind.value()) <= CallEffectKind::kPure)
      analyzer_.Bind(bind.var(), bind.value());
    return bind;
  }

  Stmt VisitStmt_(const SBlock& op) override {
    for (IterVar iv : op.iter_vars()) {
      if (iv.dom().defined()) analyzer_.Bind(iv.var(), iv.dom());
    }
    return VisitChildren(op);
  }

  Stmt VisitStmt_(const BufferStore& op) override {
    // TVM does not visit a store's expressions: the store goes, or stays as it is.
    Expr load = TensorLoad::Make(op.buffer(), op.indices());
    Expr same = analyzer_.Simplify(op.value() - load == 0);
    if (IntImm c = same.as<IntImm>(); c.defined() && c.value() == 1) return OnlyEffects(op);
    if (TensorLoad from = op.value().as<TensorLoad>();
        from.defined() && from.source().same_as(op.buffer()) &&
        from.indices().size() == op.indices().size()) {
      bool equal = true;
      for (int64_t i = 0; equal && i < op.indices().size(); ++i) {
        equal = analyzer_.CanProveEqual(from.indices()[i], op.indices()[i]);
      }
      if (equal) return OnlyEffects(op);
    }
    return op;
  }

  Expr VisitExpr_(const Call& op) override {
    if (!IsOp(op, "prim.if_then_else")) return StmtExprMutator::VisitExpr_(op);
    Expr cond = VisitExpr(op.args()[0]), t, f;
    {
      ScopedConstraints scope(analyzer_);
      scope.Add(cond);
      t = VisitExpr(op.args()[1]);
    }
    {
      ScopedConstraints scope(analyzer_);
      scope.Add(Not::Make(cond));
      f = VisitExpr(op.args()[2]);
    }
    if (IntImm c = cond.as<IntImm>(); c.defined()) {
      if (c.value() == 0) return f;
      if (c.value() == 1) return t;
    }
    if (cond.same_as(op.args()[0]) && t.same_as(op.args()[1]) && f.same_as(op.args()[2])) {
      return op;
    }
    return if_then_else(cond, t, f);
  }

  Expr VisitExpr_(const Select& op) override {
    Expr cond = VisitExpr(op.condition()), t, f;
    {
      ScopedConstraints scope(analyzer_);
      scope.Add(cond);
      t = VisitExpr(op.true_value());
    }
    {
      ScopedConstraints scope(analyzer_);
      scope.Add(Not::Make(cond));
      f = VisitExpr(op.false_value());
    }
    if (IntImm c = cond.as<IntImm>(); c.defined()) {
      if (c.value() == 0) return f;
      if (c.value() == 1) return t;
    }
    if (cond.same_as(op.condition()) && t.same_as(op.true_value()) && f.same_as(op.false_value())) {
      return op;
    }
    return Select::Make(cond, t, f);
  }

 private:
  bool IsOp(const Call& call, const char* name) {
    Op op = call.op().as<Op>();
    if (!op.defined()) return false;
    auto it = op_names_.find(op.get());
    if (it == op_names_.end()) it = op_names_.emplace(op.get(), std::string(op.name())).first;
    return it->second == name;
  }

  /*! \brief `T.evaluate(v)` for each value that writes something; else `T.evaluate(0)`. */
  Stmt EvaluateEffects(const std::vector<Expr>& values) {
    std::vector<tvm::ffi::ObjectRef> kept;
    for (const Expr& v : values) {
      if (effects_.Of(v) > CallEffectKind::kReadState) kept.push_back(Evaluate::Make(v));
    }
    if (kept.empty()) return NoOp();
    if (kept.size() == 1) return Stmt(kept[0]);
    return SeqStmt::Make(
        tvm_extend::ir::List<Stmt>(tvm::ffi::Array<tvm::ffi::ObjectRef>(kept.begin(), kept.end())));
  }

  /*! \brief What is left of a store that writes nothing new: its expressions' side effects. */
  Stmt OnlyEffects(const BufferStore& store) {
    std::vector<Expr> values{store.value()};
    for (Expr index : store.indices()) values.push_back(index);
    std::vector<tvm::ffi::ObjectRef> parts;
    for (const Expr& v : values) parts.push_back(EvaluateEffects({v}));
    return Flatten(tvm_extend::ir::List<Stmt>(
        tvm::ffi::Array<tvm::ffi::ObjectRef>(parts.begin(), parts.end())));
  }

  PassAnalyzer analyzer_;
  Analyzer set_analyzer_;  // bound to nothing: interval evaluation over explicit loop ranges
  SideEffectCache effects_;
  Expr pos_inf_ = pos_inf(), neg_inf_ = neg_inf();
  std::vector<std::pair<tvm::ffi::ObjectRef, tvm::ffi::ObjectRef>> loop_ranges_;
  std::unordered_map<const tvm::ffi::Object*, std::string> op_names_;
};
}  // namespace

tvm::ffi::ObjectRef RemoveNoOp() {
  return tvm_extend::transform::MakePrimFuncPass(
      "tir_passes.transform.RemoveNoOp",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func, [&](const Stmt& body) { return NoOpRemover().VisitStmt(body); });
      },
      0);
}

}  // namespace tir_passes

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("tir_passes.transform.RemoveNoOp",
                                           tir_passes::RemoveNoOp);
