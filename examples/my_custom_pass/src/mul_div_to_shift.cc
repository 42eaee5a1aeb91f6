/*!
 * \file mul_div_to_shift.cc
 * \brief my_custom_pass: the seed's MyCustomPass, made real.
 *
 * Rewrites integer arithmetic by a constant power of two, 2^k with k >= 1, into shifts and masks:
 *   x * 2^k, 2^k * x      -> x << k
 *   floordiv(x, 2^k)      -> x >> k          (arithmetic shift is floor division)
 *   floormod(x, 2^k)      -> x & (2^k - 1)   (two's complement floor modulo)
 *   x / 2^k, x % 2^k      -> same, for unsigned types only (truncation differs for negatives)
 *
 * Written with tvm-extend's typed TIR views (<tvm_extend/ir/tir.h>, generated from the installed
 * TVM and checked against the running one at load time) and TVM's own op helpers, reached
 * through typed, signature-checked handles. No TVM compiler header is used.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_pass.h>

#include <cstdint>
#include <optional>

TVM_EXTEND_EXTENSION(my_custom_pass, "1.0.0");

namespace {

using namespace tvm_extend::tir;  // NOLINT(build/namespaces): the views are this file's language
using tvm_extend::ir::GlobalFunction;

// TVM's op helpers, which also fold constants and check types; bound and checked at load.
GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> left_shift{"prim.left_shift"};
GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> right_shift{"prim.right_shift"};
GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> bitwise_and{"prim.bitwise_and"};

/*! \brief k when `expr` is an integer constant 2^k with k >= 1. */
std::optional<int64_t> PowerOfTwo(int64_t v) {
  if (v < 2 || (v & (v - 1)) != 0) return std::nullopt;
  int64_t k = 0;
  while ((int64_t{1} << k) != v) ++k;
  return k;
}

std::optional<int64_t> PowerOfTwo(const Expr& expr) {
  IntImm imm = expr.as<IntImm>();
  if (!imm.defined()) return std::nullopt;
  return PowerOfTwo(imm.value());
}

/*! \brief The shift the pass uses for a constant: k for 2^k (k >= 1), -1 for any other value. */
int64_t ShiftFor(int64_t value) { return PowerOfTwo(value).value_or(-1); }

/*! \brief The scalar integer type of `expr` (signed or not), if it has one. */
std::optional<DLDataType> ScalarIntType(const Expr& expr) {
  PrimType type = expr.ty().as<PrimType>();
  if (!type.defined()) return std::nullopt;
  DLDataType t = type.dtype();
  if (t.lanes != 1 || (t.code != kDLInt && t.code != kDLUInt) || t.bits < 8) return std::nullopt;
  return t;
}

Expr Constant(DLDataType t, int64_t value) { return IntImm::Make(t, value); }

class MulDivToShiftRewriter : public StmtExprMutator {
 public:
  Expr VisitExpr_(const Mul& op) override {
    Mul mul = VisitChildren(op);  // children first; the same node if none changed
    auto t = ScalarIntType(mul);
    if (!t) return mul;
    if (auto k = PowerOfTwo(mul.b())) return left_shift(mul.a(), Constant(*t, *k), {});
    if (auto k = PowerOfTwo(mul.a())) return left_shift(mul.b(), Constant(*t, *k), {});
    return mul;
  }
  Expr VisitExpr_(const FloorDiv& op) override {
    FloorDiv n = VisitChildren(op);
    return Shift(n, n.a(), n.b(), /*is_div=*/true, /*signed_ok=*/true);
  }
  Expr VisitExpr_(const FloorMod& op) override {
    FloorMod n = VisitChildren(op);
    return Shift(n, n.a(), n.b(), /*is_div=*/false, /*signed_ok=*/true);
  }
  Expr VisitExpr_(const Div& op) override {
    Div n = VisitChildren(op);
    return Shift(n, n.a(), n.b(), /*is_div=*/true, /*signed_ok=*/false);
  }
  Expr VisitExpr_(const Mod& op) override {
    Mod n = VisitChildren(op);
    return Shift(n, n.a(), n.b(), /*is_div=*/false, /*signed_ok=*/false);
  }

 private:
  // `node` (a / b) is a division or modulo whose children were already rewritten.
  Expr Shift(const Expr& node, const Expr& a, const Expr& b, bool is_div, bool signed_ok) {
    auto t = ScalarIntType(node);
    auto k = PowerOfTwo(b);
    // Truncating division and modulo agree with shifts only when no operand is negative.
    if (!t || !k || (!signed_ok && t->code != kDLUInt)) return node;
    if (is_div) return right_shift(a, Constant(*t, *k), {});
    return bitwise_and(a, Constant(*t, (int64_t{1} << *k) - 1), {});
  }
};

/*! \brief The pass body: rewrite the PrimFunc's body, keep everything else. */
tvm::ffi::ObjectRef MulDivToShift(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef /*mod*/,
                                  tvm::ffi::ObjectRef /*ctx*/) {
  return RewriteBody(func,
                     [](const Stmt& body) { return MulDivToShiftRewriter().VisitStmt(body); });
}

/*! \brief The same rewrite on one expression, for tests and interactive use. */
tvm::ffi::ObjectRef RewriteExpr(tvm::ffi::ObjectRef expr) {
  return MulDivToShiftRewriter().VisitExpr(Expr(expr));
}

/*! \brief How many multiplications, divisions and modulos by 2^k a function holds. */
int64_t CountCandidates(tvm::ffi::ObjectRef func) {
  struct Counter : StmtExprVisitor {
    int64_t count = 0;
    void VisitExpr_(const Mul& op) override {
      count += PowerOfTwo(op.a()) || PowerOfTwo(op.b()) ? ScalarIntType(op).has_value() : 0;
      StmtExprVisitor::VisitExpr_(op);
    }
    void VisitExpr_(const FloorDiv& op) override {
      count += PowerOfTwo(op.b()) && ScalarIntType(op) ? 1 : 0;
      StmtExprVisitor::VisitExpr_(op);
    }
    void VisitExpr_(const FloorMod& op) override {
      count += PowerOfTwo(op.b()) && ScalarIntType(op) ? 1 : 0;
      StmtExprVisitor::VisitExpr_(op);
    }
  } counter;
  if (PrimFunc f = tvm_extend::ir::NodeRef(func).as<PrimFunc>(); f.defined()) {
    counter.VisitStmt(f.body());
  } else {
    counter.VisitExpr(Expr(func));
  }
  return counter.count;
}

}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("my_custom_pass.transform.MulDivToShift", MulDivToShift, 0);
TVM_EXTEND_REGISTER_FUNC("my_custom_pass.rewrite_expr", RewriteExpr);
TVM_EXTEND_REGISTER_FUNC("my_custom_pass.count_candidates", CountCandidates);
TVM_EXTEND_REGISTER_FUNC("my_custom_pass.shift_for", ShiftFor);
