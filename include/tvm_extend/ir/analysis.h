/*!
 * \file tvm_extend/ir/analysis.h
 * \brief TVM's arithmetic analyzer and structural equality/hashing, with C++ types.
 *
 * Everything goes through TVM's registered functions (`sym.Analyzer*`, `ffi.StructuralEqual`,
 * `ffi.StructuralHash`), bound and signature-checked at load time like every
 * tvm_extend::ir::GlobalFunction. Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_ANALYSIS_H_
#define TVM_EXTEND_IR_ANALYSIS_H_

#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>
#include <vector>

namespace tvm_extend {
namespace tir {
namespace analysis_detail {
#pragma GCC visibility push(hidden)
using tvm::ffi::Any;
using tvm::ffi::ObjectRef;
inline ::tvm_extend::ir::GlobalFunction<Analyzer()> make_analyzer{"sym.Analyzer"};
inline ::tvm_extend::ir::GlobalFunction<Expr(Analyzer, Expr, int64_t)> simplify{
    "sym.AnalyzerSimplify"};
inline ::tvm_extend::ir::GlobalFunction<bool(Analyzer, Expr, int64_t)> can_prove{
    "sym.AnalyzerCanProve"};
inline ::tvm_extend::ir::GlobalFunction<ConstIntBound(Analyzer, Expr)> const_int_bound{
    "sym.AnalyzerConstIntBound"};
inline ::tvm_extend::ir::GlobalFunction<void(Analyzer, Var, ObjectRef, bool)> bind{
    "sym.AnalyzerBind"};
// Registered without a signature (packed): its two arguments are fixed here, once.
inline ::tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef)> undefined_vars{
    "tirx.analysis.UndefinedVars"};
inline ::tvm_extend::ir::GlobalFunction<bool(Any, Any, bool, bool)> structural_equal{
    "ffi.StructuralEqual"};
inline ::tvm_extend::ir::GlobalFunction<int64_t(Any, bool, bool)> structural_hash{
    "ffi.StructuralHash"};
#pragma GCC visibility pop
}  // namespace analysis_detail

/*!
 * \brief TVM's arithmetic analyzer: simplification, proofs and integer bounds under the
 *        variable ranges you bind. Not thread-safe (one per pass invocation, as in TVM).
 */
class ArithAnalyzer {
 public:
  ArithAnalyzer() : self_(analysis_detail::make_analyzer()) {}
  /*! \brief Simplify `expr` (rewrite and canonical simplification, `steps` rounds). */
  Expr Simplify(const Expr& expr, int64_t steps = 2) {
    return analysis_detail::simplify(self_, expr, steps);
  }
  /*! \brief Whether `cond` is provably true. */
  bool CanProve(const Expr& cond) { return analysis_detail::can_prove(self_, cond, 0); }
  /*! \brief The constant integer bounds [min, max] of `expr`. */
  ConstIntBound Bound(const Expr& expr) { return analysis_detail::const_int_bound(self_, expr); }
  /*! \brief Bind `var` to a value, or to a range [min, min + extent). */
  void Bind(const Var& var, const Expr& value) { analysis_detail::bind(self_, var, value, true); }
  void Bind(const Var& var, const Range& range) { analysis_detail::bind(self_, var, range, true); }

 private:
  Analyzer self_;
};

/*! \brief The variables `node` (a statement or an expression) uses but does not define,
 *         minus `defined`: TVM's `tirx.analysis.UndefinedVars`. */
inline ::tvm_extend::ir::List<Var> FreeVars(const ::tvm_extend::ir::NodeRef& node,
                                            const std::vector<Var>& defined = {}) {
  tvm::ffi::Array<tvm::ffi::ObjectRef> defs(defined.begin(), defined.end());
  tvm::ffi::ObjectRef vars = analysis_detail::undefined_vars(node, defs);
  return ::tvm_extend::ir::List<Var>(tvm::ffi::Array<tvm::ffi::ObjectRef>(
      tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromObjectRef<tvm::ffi::Object>(vars)));
}

/*! \brief TVM's structural equality (free variables mapped when map_free_vars). */
inline bool StructuralEqual(const tvm::ffi::ObjectRef& a, const tvm::ffi::ObjectRef& b,
                            bool map_free_vars = false) {
  return analysis_detail::structural_equal(a, b, map_free_vars, false);
}

/*! \brief TVM's structural hash, consistent with StructuralEqual. */
inline int64_t StructuralHash(const tvm::ffi::ObjectRef& node, bool map_free_vars = false) {
  return analysis_detail::structural_hash(node, map_free_vars, false);
}

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_ANALYSIS_H_
