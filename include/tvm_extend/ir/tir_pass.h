/*!
 * \file tvm_extend/ir/tir_pass.h
 * \brief The common shape of a PrimFunc pass body: rewrite the function's body, hand back the
 *        very same function when nothing changed, else a copy with the new body. Portable
 *        across TVM versions (no constructor call whose arguments could change).
 *
 * \code
 * TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("myext.transform.Fold", [](auto func, auto, auto) {
 *   return tvm_extend::tir::RewriteBody(func, [](const Stmt& body) { return Fold().VisitStmt(body);
 * });
 * }, 0);
 * \endcode
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_TIR_PASS_H_
#define TVM_EXTEND_IR_TIR_PASS_H_

#include <tvm_extend/ir/tir.h>

#include <utility>

namespace tvm_extend {
namespace tir {

/*! \brief `func` with its body replaced by `rewrite(body)`; `func` itself when unchanged. */
template <typename Rewrite>
tvm::ffi::ObjectRef RewriteBody(const tvm::ffi::ObjectRef& func, Rewrite&& rewrite) {
  PrimFunc f(func);
  Stmt body = std::forward<Rewrite>(rewrite)(f.body());
  if (body.same_as(f.body())) return func;
  return f.with_body(body);
}

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_TIR_PASS_H_
