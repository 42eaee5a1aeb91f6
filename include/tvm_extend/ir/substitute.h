/*!
 * \file tvm_extend/ir/substitute.h
 * \brief Substitute (variables → expressions, over expressions and statements), UsesVar and
 *        ExprDeepEqual, as TVM's passes use them.
 *
 * \code
 * Stmt body2 = Substitute(body, {{i, i + 1}});
 * if (UsesVar(expr, [&](const Var& v) { return v.same_as(n); })) { ... }
 * bool same = ExprDeepEqual(a, b);  // TVM's `prim.expr_deep_equal`
 * \endcode
 *
 * TVM 0.27 registers no Substitute or UsesVar global, so both walk the IR with the kit's
 * visitor and copy-on-write mutator (unchanged subtrees stay the same objects). Like TVM's,
 * they see variables where the IR *uses* them (expressions, including a load's or store's
 * buffer), not where it defines them (a loop's or Bind's variable). ExprDeepEqual is TVM's
 * own, which compares variables by identity. Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_SUBSTITUTE_H_
#define TVM_EXTEND_IR_SUBSTITUTE_H_

#include <tvm/ffi/container/map.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <functional>
#include <initializer_list>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace tvm_extend {
namespace tir {
namespace substitute_detail {
#pragma GCC visibility push(hidden)
inline ::tvm_extend::ir::GlobalFunction<bool(Expr, Expr)> expr_deep_equal{"prim.expr_deep_equal"};
#pragma GCC visibility pop

using VarMap = std::function<Expr(const Var&)>;

class Substituter : public StmtExprMutator {
 public:
  explicit Substituter(const VarMap& vmap) : vmap_(vmap) {}
  Expr VisitExpr_(const Var& op) override {
    Expr replacement = vmap_(op);
    return replacement.defined() ? replacement : Expr(op);
  }
  Stmt VisitStmt_(const BufferStore& op) override {
    BufferStore store(VisitChildren(op));
    Expr buffer = VisitExpr(store.buffer());
    if (buffer.same_as(store.buffer())) return store;
    return store.with_buffer(buffer.Downcast<Var>());
  }
#if TVM_EXTEND_IR_TVM_MINOR < 27
  // Before 0.27 a load's buffer is a Var field, which the default walk skips (0.27's `source`
  // is an Expr it walks).
  Expr VisitExpr_(const TensorLoad& op) override {
    TensorLoad load(VisitChildren(op));
    Expr buffer = VisitExpr(load.buffer());
    if (buffer.same_as(load.buffer())) return load;
    return load.with_buffer(buffer.Downcast<Var>());
  }
#endif

 private:
  const VarMap& vmap_;
};

class VarUseFinder : public StmtExprVisitor {
 public:
  explicit VarUseFinder(const std::function<bool(const Var&)>& pred) : pred_(pred) {}
  void VisitExpr(const Expr& e) override {
    if (!found) StmtExprVisitor::VisitExpr(e);
  }
  void VisitStmt(const Stmt& s) override {
    if (!found) StmtExprVisitor::VisitStmt(s);
  }
  void VisitExpr_(const Var& op) override { found = found || pred_(op); }
  void VisitStmt_(const BufferStore& op) override {
    VisitExpr(op.buffer());
    StmtExprVisitor::VisitStmt_(op);
  }
#if TVM_EXTEND_IR_TVM_MINOR < 27
  void VisitExpr_(const TensorLoad& op) override {  // as in Substituter
    VisitExpr(op.buffer());
    StmtExprVisitor::VisitExpr_(op);
  }
#endif
  bool found = false;

 private:
  const std::function<bool(const Var&)>& pred_;
};
}  // namespace substitute_detail

/*! \brief A variable → expression map, keyed by object identity (as TVM's Map<Var, Expr>). */
using VarExprMap = std::unordered_map<Var, Expr, tvm::ffi::ObjectPtrHash, tvm::ffi::ObjectPtrEqual>;
/*! \brief A set of variables by identity. */
using VarSet = std::unordered_set<Var, tvm::ffi::ObjectPtrHash, tvm::ffi::ObjectPtrEqual>;

/*! \brief `expr` with each variable replaced by `vmap(var)` where that is not null. */
inline Expr Substitute(const Expr& expr, const std::function<Expr(const Var&)>& vmap) {
  return substitute_detail::Substituter(vmap).VisitExpr(expr);
}
/*! \brief `stmt` with each used variable replaced by `vmap(var)` where that is not null. */
inline Stmt Substitute(const Stmt& stmt, const std::function<Expr(const Var&)>& vmap) {
  return substitute_detail::Substituter(vmap).VisitStmt(stmt);
}
template <typename Node>
inline Node Substitute(const Node& node, const VarExprMap& vmap) {
  return Substitute(node, [&vmap](const Var& v) -> Expr {
    auto it = vmap.find(v);
    return it == vmap.end() ? Expr() : it->second;
  });
}
template <typename Node>
inline Node Substitute(const Node& node, std::initializer_list<std::pair<const Var, Expr>> vmap) {
  return Substitute(node, VarExprMap(vmap));
}

/*! \brief Whether `node` (an Expr or a Stmt) uses a variable for which `pred` holds. */
template <typename Node>
inline bool UsesVar(const Node& node, const std::function<bool(const Var&)>& pred) {
  substitute_detail::VarUseFinder finder(pred);
  if constexpr (std::is_base_of_v<Stmt, Node>) {
    finder.VisitStmt(node);
  } else {
    finder.VisitExpr(node);
  }
  return finder.found;
}
/*! \brief Whether `node` uses `var`. */
template <typename Node>
inline bool UsesVar(const Node& node, const Var& var) {
  return UsesVar(node, [&var](const Var& v) { return v.same_as(var); });
}
/*! \brief Whether `node` uses any variable of `vars`. */
template <typename Node>
inline bool UsesVar(const Node& node, const VarSet& vars) {
  return UsesVar(node, [&vars](const Var& v) { return vars.count(v) != 0; });
}

/*! \brief TVM's ExprDeepEqual: same structure, same variables (no mapping of free ones). */
inline bool ExprDeepEqual(const Expr& a, const Expr& b) {
  return substitute_detail::expr_deep_equal(a, b);
}

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_SUBSTITUTE_H_
