/*!
 * \file strength_reduce.cc
 * \brief tir_passes.transform.StrengthReduce: integer multiplication, division and modulo by a
 *        power of two become shifts and masks, using TVM's arithmetic analyzer to prove when
 *        truncating division is safe.
 *
 * `x * 2^k -> x << k` and floor division/modulo always; truncating `x / 2^k` and `x % 2^k` only
 * where the analyzer, told every enclosing loop's range, proves `x >= 0` (or x is unsigned).
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/ir/tir_pass.h>

#include <cstdint>
#include <optional>

#include "passes.h"

namespace tir_passes {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::ir::GlobalFunction;

GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> shift_left{"prim.left_shift"};
GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> shift_right{"prim.right_shift"};
GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> bit_and{"prim.bitwise_and"};
GlobalFunction<Range(Expr, Expr, tvm::ffi::ObjectRef)> range_from_min_extent{
    "ir.Range_from_min_extent"};

std::optional<int64_t> Log2(const Expr& e) {
  IntImm imm = e.as<IntImm>();
  if (!imm.defined() || imm.value() < 2 || (imm.value() & (imm.value() - 1)) != 0) return {};
  int64_t k = 0;
  while ((int64_t{1} << k) != imm.value()) ++k;
  return k;
}

std::optional<DLDataType> IntType(const Expr& e) {
  PrimType t = e.ty().as<PrimType>();
  if (!t.defined()) return {};
  DLDataType d = t.dtype();
  if (d.lanes != 1 || (d.code != kDLInt && d.code != kDLUInt)) return {};
  return d;
}

class StrengthReducer : public StmtExprMutator {
 public:
  Stmt VisitStmt_(const For& op) override {
    analyzer_.Bind(op.loop_var(), range_from_min_extent(op.min(), op.extent(), {}));
    return VisitChildren(op);
  }
  Expr VisitExpr_(const Mul& op) override {
    Mul mul = VisitChildren(op);
    auto t = IntType(mul);
    if (!t) return mul;
    if (auto k = Log2(mul.b())) return shift_left(mul.a(), IntImm::Make(*t, *k), {});
    if (auto k = Log2(mul.a())) return shift_left(mul.b(), IntImm::Make(*t, *k), {});
    return mul;
  }
  Expr VisitExpr_(const FloorDiv& op) override {
    FloorDiv n = VisitChildren(op);
    return Reduce(n, n.a(), n.b(), true, true);
  }
  Expr VisitExpr_(const FloorMod& op) override {
    FloorMod n = VisitChildren(op);
    return Reduce(n, n.a(), n.b(), false, true);
  }
  Expr VisitExpr_(const Div& op) override {
    Div n = VisitChildren(op);
    return Reduce(n, n.a(), n.b(), true, false);
  }
  Expr VisitExpr_(const Mod& op) override {
    Mod n = VisitChildren(op);
    return Reduce(n, n.a(), n.b(), false, false);
  }

 private:
  Expr Reduce(const Expr& node, const Expr& a, const Expr& b, bool is_div, bool floor) {
    auto t = IntType(node);
    auto k = Log2(b);
    if (!t || !k) return node;
    // Truncation rounds towards zero; a shift rounds down. They agree when a >= 0.
    if (!floor && t->code != kDLUInt && !analyzer_.CanProve(a >= 0)) return node;
    if (is_div) return shift_right(a, IntImm::Make(*t, *k), {});
    return bit_and(a, IntImm::Make(*t, (int64_t{1} << *k) - 1), {});
  }

  ArithAnalyzer analyzer_;
};
}  // namespace

tvm::ffi::ObjectRef StrengthReduce() {
  return tvm_extend::transform::MakePrimFuncPass(
      "tir_passes.transform.StrengthReduce",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func,
                           [&](const Stmt& body) { return StrengthReducer().VisitStmt(body); });
      },
      0);
}

}  // namespace tir_passes

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("tir_passes.transform.StrengthReduce",
                                           tir_passes::StrengthReduce);
