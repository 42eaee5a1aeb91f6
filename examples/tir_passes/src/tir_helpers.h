/*!
 * \file tir_helpers.h
 * \brief Small pieces TVM's own passes take from TVM's C++ API, written here on the kit's views
 *        for RemoveNoOp and NarrowDataType: call effects, an analyzer with constraint scopes,
 *        sequence flattening, data types. Candidates for the kit (include/tvm_extend/ir/).
 */
#ifndef TIR_PASSES_TIR_HELPERS_H_
#define TIR_PASSES_TIR_HELPERS_H_

#include <tvm/ffi/function.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tir_passes {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

namespace helpers_detail {
#pragma GCC visibility push(hidden)
using tvm_extend::ir::GlobalFunction;
inline GlobalFunction<tvm::ffi::Function(Analyzer, Expr)> enter_constraint{
    "sym.AnalyzerEnterConstraintContext"};
inline GlobalFunction<bool(Analyzer, Expr, Expr)> can_prove_equal{"sym.AnalyzerCanProveEqual"};
inline GlobalFunction<void(Analyzer, Var, ConstIntBound, bool)> update_bound{
    "sym.AnalyzerConstIntBoundUpdate"};
#pragma GCC visibility pop
}  // namespace helpers_detail

/*! \brief The scalar data type of an expression (its PrimType). */
inline DLDataType TypeOf(const Expr& e) { return PrimType(e.ty()).dtype(); }

/*! \brief TVM's `T.evaluate(0)`, the statement that does nothing. */
inline Stmt NoOp() { return Evaluate::Make(IntImm::Make(DLDataType{kDLInt, 32, 1}, 0)); }

/*! \brief TVM's SeqStmt::Flatten: nested sequences inlined, `T.evaluate(0)` dropped; nothing
 *         left is `T.evaluate(0)`, one statement left is that statement. */
inline Stmt Flatten(const tvm_extend::ir::List<Stmt>& seq) {
  std::vector<tvm::ffi::ObjectRef> out;
  struct {
    void operator()(const Stmt& s, std::vector<tvm::ffi::ObjectRef>* out) const {
      if (SeqStmt inner = s.as<SeqStmt>(); inner.defined()) {
        for (Stmt child : inner.seq()) (*this)(child, out);
        return;
      }
      if (Evaluate e = s.as<Evaluate>(); e.defined()) {
        if (IntImm v = e.value().as<IntImm>(); v.defined() && v.value() == 0) return;
      }
      out->push_back(s);
    }
  } add;
  for (Stmt s : seq) add(s, &out);
  if (out.empty()) return NoOp();
  if (out.size() == 1) return Stmt(out[0]);
  if (static_cast<int64_t>(out.size()) == seq.size()) {
    bool same = true;
    for (int64_t i = 0; same && i < seq.size(); ++i) same = out[i].same_as(seq[i]);
    if (same) return SeqStmt::Make(seq);
  }
  return SeqStmt::Make(
      tvm_extend::ir::List<Stmt>(tvm::ffi::Array<tvm::ffi::ObjectRef>(out.begin(), out.end())));
}

/*! \brief TVM's SideEffect(expr): the strongest call effect in an expression (TVM's
 *         `TCallEffectKind` of each op; a load reads state; calls of non-ops are opaque),
 *         capped at UpdateState. Caches each op's kind. */
class CallEffects {
 public:
  static constexpr int64_t kPure = 1, kReadState = 2, kUpdateState = 3;
  int64_t Of(const Expr& e) {
    Walker walker(this);
    walker.VisitExpr(e);
    return walker.kind;
  }

 private:
  struct Walker : StmtExprVisitor {
    explicit Walker(CallEffects* owner) : owner(owner) {}
    void VisitExpr_(const TensorLoad& op) override {
      kind = std::max(kind, kReadState);
      StmtExprVisitor::VisitExpr_(op);
    }
    void VisitExpr_(const Call& op) override {
      kind = std::max(kind, std::min(owner->KindOf(op.op()), kUpdateState));
      StmtExprVisitor::VisitExpr_(op);
    }
    CallEffects* owner;
    int64_t kind = kPure;
  };
  int64_t KindOf(const Expr& callee) {
    Op op = callee.as<Op>();
    if (!op.defined()) return kUpdateState;
    auto it = kinds_.find(op.get());
    if (it != kinds_.end()) return it->second;
    // Registered without a signature; the attribute is an integer (or unset).
    static const tvm::ffi::Function op_get_attr =
        tvm::ffi::Function::GetGlobalRequired("ir.OpGetAttr");
    tvm::ffi::Any kind = op_get_attr(op, tvm::ffi::String("TCallEffectKind"));
    int64_t value = kUpdateState;
    if (auto v = kind.try_cast<int64_t>()) {
      value = *v;
    } else if (auto imm = kind.try_cast<tvm::ffi::ObjectRef>()) {
      if (IntImm::IsInstance(*imm)) value = IntImm(*imm).value();
    }
    kinds_.emplace(op.get(), value);
    return value;
  }
  std::unordered_map<const tvm::ffi::Object*, int64_t> kinds_;
};

/*! \brief TVM's arithmetic analyzer, with what ArithAnalyzer lacks so far: CanProveEqual and
 *         constraint scopes (ScopedConstraints). */
class PassAnalyzer {
 public:
  PassAnalyzer() : self_(analysis_detail::make_analyzer()) {}
  Expr Simplify(const Expr& e) { return analysis_detail::simplify(self_, e, 2); }
  bool CanProve(const Expr& cond) { return analysis_detail::can_prove(self_, cond, 0); }
  bool CanProveEqual(const Expr& a, const Expr& b) {
    return helpers_detail::can_prove_equal(self_, a, b);
  }
  ConstIntBound Bound(const Expr& e) { return analysis_detail::const_int_bound(self_, e); }
  void Bind(const Var& var, const Expr& value) { analysis_detail::bind(self_, var, value, true); }
  void Bind(const Var& var, const Range& range) { analysis_detail::bind(self_, var, range, true); }
  /*! \brief Set only the constant bound of `var` (what TVM's bound analysis does for a let). */
  void Update(const Var& var, const ConstIntBound& bound) {
    helpers_detail::update_bound(self_, var, bound, true);
  }
  const Analyzer& handle() const { return self_; }

 private:
  Analyzer self_;
};

/*! \brief Constraints that hold inside a C++ scope (TVM's With<ConstraintContext>), removed
 *         in reverse order when it ends. */
class ScopedConstraints {
 public:
  explicit ScopedConstraints(PassAnalyzer& analyzer) : analyzer_(analyzer) {}
  ScopedConstraints(const ScopedConstraints&) = delete;
  ScopedConstraints& operator=(const ScopedConstraints&) = delete;
  void Add(const Expr& cond) {
    exits_.push_back(helpers_detail::enter_constraint(analyzer_.handle(), cond));
  }
  ~ScopedConstraints() {
    for (auto it = exits_.rbegin(); it != exits_.rend(); ++it) (*it)();
  }

 private:
  PassAnalyzer& analyzer_;
  std::vector<tvm::ffi::Function> exits_;
};

}  // namespace tir_passes
#endif  // TIR_PASSES_TIR_HELPERS_H_
