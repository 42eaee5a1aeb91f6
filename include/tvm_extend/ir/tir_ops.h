/*!
 * \file tvm_extend/ir/tir_ops.h
 * \brief C++ operators on TIR expressions, through TVM's own registered op helpers
 *        (`prim._OpAdd`, ...), so that types are promoted and constants folded as in TVM.
 *
 * Integer literals mix in: `x * 2 + 1`. `/` and `%` are truncating, as in TVM's C++ API;
 * floordiv/floormod are the Python operators `//` and `%`.
 * Needs the generated <tvm_extend/ir/tir.h> (tvm_extend_add_extension() provides it).
 */
#ifndef TVM_EXTEND_IR_TIR_OPS_H_
#define TVM_EXTEND_IR_TIR_OPS_H_

#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>

namespace tvm_extend {
namespace tir {
namespace ops_detail {
#pragma GCC visibility push(hidden)
using Binary =
    ::tvm_extend::ir::GlobalFunction<Expr(tvm::ffi::Any, tvm::ffi::Any, tvm::ffi::ObjectRef)>;
#define TVM_EXTEND_TIR_BINARY(fn, global) inline Binary fn{global};
TVM_EXTEND_TIR_BINARY(add, "prim._OpAdd")
TVM_EXTEND_TIR_BINARY(sub, "prim._OpSub")
TVM_EXTEND_TIR_BINARY(mul, "prim._OpMul")
TVM_EXTEND_TIR_BINARY(div, "prim._OpDiv")
TVM_EXTEND_TIR_BINARY(mod, "prim._OpMod")
TVM_EXTEND_TIR_BINARY(floordiv, "prim._OpFloorDiv")
TVM_EXTEND_TIR_BINARY(floormod, "prim._OpFloorMod")
TVM_EXTEND_TIR_BINARY(min, "prim._OpMin")
TVM_EXTEND_TIR_BINARY(max, "prim._OpMax")
TVM_EXTEND_TIR_BINARY(lt, "prim._OpLT")
TVM_EXTEND_TIR_BINARY(le, "prim._OpLE")
TVM_EXTEND_TIR_BINARY(gt, "prim._OpGT")
TVM_EXTEND_TIR_BINARY(ge, "prim._OpGE")
TVM_EXTEND_TIR_BINARY(eq, "prim._OpEQ")
TVM_EXTEND_TIR_BINARY(ne, "prim._OpNE")
TVM_EXTEND_TIR_BINARY(logical_and, "prim._OpAnd")
TVM_EXTEND_TIR_BINARY(logical_or, "prim._OpOr")
#undef TVM_EXTEND_TIR_BINARY
inline ::tvm_extend::ir::GlobalFunction<Expr(Expr, Expr, Expr, tvm::ffi::ObjectRef)> select{
    "prim._OpIfThenElse"};
#pragma GCC visibility pop

/*! \brief An operand: an expression or an integer literal. A null expression is refused here
 *         (TVM's operator functions crash on one rather than raise). */
inline tvm::ffi::Any Operand(const Expr& e) {
  if (!e.defined()) TVM_FFI_THROW(ValueError) << "tvm-extend: a TIR operator got a null operand";
  return tvm::ffi::Any(e);
}
inline tvm::ffi::Any Operand(int64_t v) { return tvm::ffi::Any(v); }
}  // namespace ops_detail

#define TVM_EXTEND_TIR_OPERATOR(op, fn)                                        \
  inline Expr operator op(const Expr& a, const Expr& b) {                      \
    return ops_detail::fn(ops_detail::Operand(a), ops_detail::Operand(b), {}); \
  }                                                                            \
  inline Expr operator op(const Expr& a, int64_t b) {                          \
    return ops_detail::fn(ops_detail::Operand(a), ops_detail::Operand(b), {}); \
  }                                                                            \
  inline Expr operator op(int64_t a, const Expr& b) {                          \
    return ops_detail::fn(ops_detail::Operand(a), ops_detail::Operand(b), {}); \
  }
TVM_EXTEND_TIR_OPERATOR(+, add)
TVM_EXTEND_TIR_OPERATOR(-, sub)
TVM_EXTEND_TIR_OPERATOR(*, mul)
TVM_EXTEND_TIR_OPERATOR(/, div)
TVM_EXTEND_TIR_OPERATOR(%, mod)
TVM_EXTEND_TIR_OPERATOR(<, lt)
TVM_EXTEND_TIR_OPERATOR(<=, le)
TVM_EXTEND_TIR_OPERATOR(>, gt)
TVM_EXTEND_TIR_OPERATOR(>=, ge)
TVM_EXTEND_TIR_OPERATOR(==, eq)
TVM_EXTEND_TIR_OPERATOR(!=, ne)
TVM_EXTEND_TIR_OPERATOR(&&, logical_and)
TVM_EXTEND_TIR_OPERATOR(||, logical_or)
#undef TVM_EXTEND_TIR_OPERATOR

inline Expr floordiv(const Expr& a, const Expr& b) {
  return ops_detail::floordiv(ops_detail::Operand(a), ops_detail::Operand(b), {});
}
inline Expr floordiv(const Expr& a, int64_t b) {
  return ops_detail::floordiv(ops_detail::Operand(a), b, {});
}
inline Expr floormod(const Expr& a, const Expr& b) {
  return ops_detail::floormod(ops_detail::Operand(a), ops_detail::Operand(b), {});
}
inline Expr floormod(const Expr& a, int64_t b) {
  return ops_detail::floormod(ops_detail::Operand(a), b, {});
}
inline Expr min(const Expr& a, const Expr& b) {
  return ops_detail::min(ops_detail::Operand(a), ops_detail::Operand(b), {});
}
inline Expr max(const Expr& a, const Expr& b) {
  return ops_detail::max(ops_detail::Operand(a), ops_detail::Operand(b), {});
}
/*! \brief `cond ? t : f`, evaluated lazily (TVM's if_then_else). */
inline Expr if_then_else(const Expr& cond, const Expr& t, const Expr& f) {
  for (const Expr* e : {&cond, &t, &f}) ops_detail::Operand(*e);
  return ops_detail::select(cond, t, f, {});
}

}  // namespace tir

// The expression views (Expr, Var, IntImm, ...) are the shared `ir.*` ones (tvm_extend::ir): these
// declarations let argument-dependent lookup find the operators for them, as it did when they
// lived in tvm_extend::tir, so `e + 1` needs no using-directive.
namespace ir {
using tir::operator+;
using tir::operator-;
using tir::operator*;
using tir::operator/;
using tir::operator%;
using tir::operator<;
using tir::operator<=;
using tir::operator>;
using tir::operator>=;
using tir::operator==;
using tir::operator!=;
using tir::operator&&;
using tir::operator||;
using tir::floordiv;
using tir::floormod;
using tir::if_then_else;
using tir::max;
using tir::min;
}  // namespace ir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_TIR_OPS_H_
