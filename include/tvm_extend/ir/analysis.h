/*!
 * \file tvm_extend/ir/analysis.h
 * \brief TVM's arithmetic analyzer and structural equality/hashing, with C++ types.
 *
 * Everything goes through TVM's registered functions (`sym.Analyzer*`, `ffi.StructuralEqual`,
 * `ffi.StructuralHash`), bound and signature-checked at load time like every
 * tvm_extend::ir::GlobalFunction. Needs the generated <tvm_extend/ir/tir.h>.
 *
 * \code
 * ArithAnalyzer analyzer;
 * analyzer.Bind(i, RangeFromMinExtent(zero, n));
 * {
 *   auto scope = analyzer.Constrain(i % 4 == 0);  // holds until `scope` goes away
 *   ModularSet m = analyzer.ModularSetOf(i);     // coeff 4, base 0
 * }
 * \endcode
 */
#ifndef TVM_EXTEND_IR_ANALYSIS_H_
#define TVM_EXTEND_IR_ANALYSIS_H_

#include <tvm/ffi/container/map.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace tir {

// TVM 0.27 names these `sym.*`; 0.26 names them `arith.*`: the handles bind either (the rename
// table, tvm_extend/ir/renames.h).
namespace analysis_detail {
#pragma GCC visibility push(hidden)
using tvm::ffi::Any;
using tvm::ffi::ObjectRef;
template <typename Signature>
using Global = ::tvm_extend::ir::GlobalFunction<Signature>;
inline Global<Analyzer()> make_analyzer{"sym.Analyzer"};
inline Global<Expr(Analyzer, Expr, int64_t)> simplify{"sym.AnalyzerSimplify"};
inline Global<Expr(Analyzer, Expr)> rewrite_simplify{"sym.AnalyzerRewriteSimplify"};
inline Global<Expr(Analyzer, Expr)> canonical_simplify{"sym.AnalyzerCanonicalSimplify"};
inline Global<bool(Analyzer, Expr, int64_t)> can_prove{"sym.AnalyzerCanProve"};
inline Global<bool(Analyzer, Expr, Expr)> can_prove_equal{"sym.AnalyzerCanProveEqual"};
inline Global<ConstIntBound(Analyzer, Expr)> const_int_bound{"sym.AnalyzerConstIntBound"};
inline Global<ModularSet(Analyzer, Expr)> modular_set{"sym.AnalyzerModularSet"};
// IntSet is not a generated view; its value is handled as an ObjectRef.
inline Global<ObjectRef(Analyzer, Expr, ObjectRef)> int_set{"sym.AnalyzerIntSet"};
inline Global<void(Analyzer, Var, ObjectRef, bool)> bind{"sym.AnalyzerBind"};
inline Global<tvm::ffi::Function(Analyzer, Expr)> enter_constraint{
    "sym.AnalyzerEnterConstraintContext"};
inline Global<ObjectRef(Expr, Expr)> int_set_interval{"sym.intset_interval"};
inline Global<Range(Expr, Expr, ObjectRef)> range_from_min_extent{"ir.Range_from_min_extent"};
inline Global<Expr(ObjectRef)> int_set_min{"sym.IntervalSetGetMin"};
inline Global<Expr(ObjectRef)> int_set_max{"sym.IntervalSetGetMax"};
// Registered without a signature (packed): its two arguments are fixed here, once.
inline Global<ObjectRef(ObjectRef, ObjectRef)> undefined_vars{"tirx.analysis.UndefinedVars"};
inline Global<bool(Any, Any, bool, bool)> structural_equal{"ffi.StructuralEqual"};
inline Global<int64_t(Any, bool, bool)> structural_hash{"ffi.StructuralHash"};
#pragma GCC visibility pop
}  // namespace analysis_detail

/*!
 * \brief A constraint in force while this object lives (TVM's `With<ConstraintContext>`): made
 *        by ArithAnalyzer::Constrain, left when destroyed, in the reverse order of entry.
 *        Move-only. Leaving calls TVM's exit function; an error there is swallowed (a
 *        destructor must not throw) after which the analyzer is in TVM's hands.
 */
class ConstraintScope {
 public:
  ConstraintScope() = default;
  explicit ConstraintScope(tvm::ffi::Function exit) : exit_(std::move(exit)) {}
  ConstraintScope(ConstraintScope&& other) noexcept : exit_(std::move(other.exit_)) {
    other.exit_ = tvm::ffi::Function();
  }
  ConstraintScope& operator=(ConstraintScope&& other) noexcept {
    if (this != &other) {
      Exit();
      exit_ = std::move(other.exit_);
      other.exit_ = tvm::ffi::Function();
    }
    return *this;
  }
  ConstraintScope(const ConstraintScope&) = delete;
  ConstraintScope& operator=(const ConstraintScope&) = delete;
  ~ConstraintScope() { Exit(); }
  /*! \brief Leave the constraint now (idempotent). */
  void Exit() noexcept {
    if (!exit_.defined()) return;
    tvm::ffi::Function exit = std::move(exit_);
    exit_ = tvm::ffi::Function();
    try {
      exit();
    } catch (...) {  // NOLINT(bugprone-empty-catch): see the class comment
    }
  }

 private:
  tvm::ffi::Function exit_;
};

/*! \brief Bounds of an IntSet: `min`/`max` are expressions (TVM's pos_inf/neg_inf when open). */
struct IntSetBounds {
  tvm::ffi::ObjectRef set;  // the ir.IntSet itself
  Expr min;
  Expr max;
};

/*! \brief The range [min, min + extent), as TVM's `Range::FromMinExtent` (the same as the
 *         generated `Range::Make(min, extent)`, which is made by `ir.Range_from_min_extent`). */
inline Range RangeFromMinExtent(const Expr& min, const Expr& extent) {
  return analysis_detail::range_from_min_extent(min, extent, {});
}

namespace analysis_detail {
/*! \brief `node`, or a ValueError naming `where` when it is null (some of TVM's analyzer
 *         functions crash on a null expression instead of raising). */
template <typename T>
inline const T& NotNull(const T& node, const char* where) {
  if (!node.defined()) {
    TVM_FFI_THROW(ValueError) << "tvm-extend: ArithAnalyzer::" << where << " got a null "
                              << T::kTypeKey;
  }
  return node;
}
}  // namespace analysis_detail

/*!
 * \brief TVM's arithmetic analyzer: simplification, proofs and integer bounds under the
 *        variable ranges you bind. Not thread-safe (one per pass invocation, as in TVM).
 *        A null expression is refused with a ValueError.
 */
class ArithAnalyzer {
 public:
  ArithAnalyzer() : self_(analysis_detail::make_analyzer()) {}
  /*! \brief Simplify `expr` (rewrite and canonical simplification, `steps` rounds). */
  Expr Simplify(const Expr& expr, int64_t steps = 2) {
    return analysis_detail::simplify(self_, Check(expr, "Simplify"), steps);
  }
  /*! \brief TVM's rewrite simplifier alone (pattern rules, one pass). */
  Expr RewriteSimplify(const Expr& expr) {
    return analysis_detail::rewrite_simplify(self_, Check(expr, "RewriteSimplify"));
  }
  /*! \brief TVM's canonical simplifier alone (sums of products in canonical order). */
  Expr CanonicalSimplify(const Expr& expr) {
    return analysis_detail::canonical_simplify(self_, Check(expr, "CanonicalSimplify"));
  }
  /*! \brief Whether `cond` is provably true. */
  bool CanProve(const Expr& cond) {
    return analysis_detail::can_prove(self_, Check(cond, "CanProve"), 0);
  }
  /*! \brief Whether `a == b` is provably true. */
  bool CanProveEqual(const Expr& a, const Expr& b) {
    return analysis_detail::can_prove_equal(self_, Check(a, "CanProveEqual"),
                                            Check(b, "CanProveEqual"));
  }
  /*! \brief The constant integer bounds [min, max] of `expr`. */
  ConstIntBound Bound(const Expr& expr) {
    return analysis_detail::const_int_bound(self_, Check(expr, "Bound"));
  }
  /*! \brief `expr` as `coeff * k + base` for all integers k (coeff 0: the constant `base`). */
  ModularSet ModularSetOf(const Expr& expr) {
    return analysis_detail::modular_set(self_, Check(expr, "ModularSetOf"));
  }
  /*!
   * \brief The set of values `expr` takes when each variable of `dom` ranges over its Range
   *        (TVM's EvalSet / `Analyzer.int_set`), with its symbolic min and max.
   */
  IntSetBounds EvalSet(const Expr& expr, const std::vector<std::pair<Var, Range>>& dom = {}) {
    tvm::ffi::Map<tvm::ffi::ObjectRef, tvm::ffi::ObjectRef> dom_map;
    Check(expr, "EvalSet");
    for (const auto& [var, range] : dom) {
      Check(var, "EvalSet");
      Check(range, "EvalSet");
      // [min, min + extent - 1] as an interval, as IntSet::FromRange makes it.
      PrimType type = range.extent().ty().as<PrimType>();
      Expr one = IntImm::Make(type.defined() ? type.dtype() : DLDataType{kDLInt, 32, 1}, 1);
      Expr max = Simplify(Add::Make(range.min(), Sub::Make(range.extent(), one)));
      dom_map.Set(var, analysis_detail::int_set_interval(range.min(), max));
    }
    tvm::ffi::ObjectRef set = analysis_detail::int_set(self_, expr, dom_map);
    return {set, analysis_detail::int_set_min(set), analysis_detail::int_set_max(set)};
  }
  /*! \brief Bind `var` to a value, or to a range [min, min + extent). */
  void Bind(const Var& var, const Expr& value) {
    analysis_detail::bind(self_, Check(var, "Bind"), Check(value, "Bind"), true);
  }
  void Bind(const Var& var, const Range& range) {
    analysis_detail::bind(self_, Check(var, "Bind"), Check(range, "Bind"), true);
  }
  /*!
   * \brief Assume `cond` until the returned scope is destroyed:
   *        `{ auto scope = analyzer.Constrain(x < n); ... }`. Scopes nest; leave them in the
   *        reverse order of entry (as C++ scopes do).
   */
  [[nodiscard]] ConstraintScope Constrain(const Expr& cond) {
    return ConstraintScope(analysis_detail::enter_constraint(self_, Check(cond, "Constrain")));
  }
  /*! \brief The TVM analyzer object, for TVM functions that take one. */
  const Analyzer& object() const { return self_; }

 private:
  template <typename T>
  static const T& Check(const T& node, const char* where) {
    return analysis_detail::NotNull(node, where);
  }
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
