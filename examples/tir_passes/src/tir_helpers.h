/*!
 * \file tir_helpers.h
 * \brief What RemoveNoOp and NarrowDataType share on top of the kit's pass infrastructure
 *        (analysis.h, op_attr.h): call effects cached per pass run, an analyzer that can set a
 *        variable's constant bound, constraint scopes as one C++ scope, sequence flattening.
 */
#ifndef TIR_PASSES_TIR_HELPERS_H_
#define TIR_PASSES_TIR_HELPERS_H_

#include <tvm/ffi/function.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/op_attr.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tir_passes {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

namespace helpers_detail {
#pragma GCC visibility push(hidden)
inline tvm_extend::ir::GlobalFunction<void(Analyzer, Var, ConstIntBound, bool)> update_bound{
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

/*! \brief The kit's analyzer, plus setting only a variable's constant bound (what TVM's bound
 *         analysis does for a let). */
class PassAnalyzer : public ArithAnalyzer {
 public:
  void Update(const Var& var, const ConstIntBound& bound) {
    helpers_detail::update_bound(object(), var, bound, true);
  }
};

/*! \brief Constraints that hold inside a C++ scope (TVM's With<ConstraintContext>), removed
 *         in reverse order when it ends. */
class ScopedConstraints {
 public:
  explicit ScopedConstraints(PassAnalyzer& analyzer) : analyzer_(analyzer) {}
  ScopedConstraints(const ScopedConstraints&) = delete;
  ScopedConstraints& operator=(const ScopedConstraints&) = delete;
  void Add(const Expr& cond) { scopes_.push_back(analyzer_.Constrain(cond)); }
  ~ScopedConstraints() {
    while (!scopes_.empty()) scopes_.pop_back();
  }

 private:
  PassAnalyzer& analyzer_;
  std::vector<ConstraintScope> scopes_;
};

}  // namespace tir_passes
#endif  // TIR_PASSES_TIR_HELPERS_H_
