/*!
 * \file tvm_extend/ir/expr_dtype.h
 * \brief The data type of a TIR expression, read in place.
 *
 * `DataTypeOf(e)` is `e.ty().as<PrimType>().dtype()` without the two handles that chain makes
 * (no reference counting, no type check beyond one), for passes that ask it of every node
 * (vectorizers, dtype legalizers). Ask the questions of dtype.h of the result:
 * \code
 * if (dtype::is_vector(DataTypeOf(e))) { ... }
 * \endcode
 * Needs the generated <tvm_extend/ir/tir.h> (tvm_extend_add_extension() provides it).
 */
#ifndef TVM_EXTEND_IR_EXPR_DTYPE_H_
#define TVM_EXTEND_IR_EXPR_DTYPE_H_

#include <dlpack/dlpack.h>
#include <tvm_extend/ir/dtype.h>
#include <tvm_extend/ir/tir.h>

namespace tvm_extend {
namespace tir {

/*!
 * \brief The DLDataType of `e`'s PrimType; {kDLOpaqueHandle, 0, 0} (TVM's void) when `e` is
 *        null or its type is not primitive (a pointer, a tuple).
 */
template <int = 0>
inline DLDataType DataTypeOf(const Expr& e) {
  namespace ir = ::tvm_extend::ir;
  if (!e.defined()) return DLDataType{kDLOpaqueHandle, 0, 0};
  const tvm::ffi::ObjectRef& ty = ir::ObjectField(e.get(), ir::UseField<tags::F_ir_Expr__ty>());
  if (!ir::IsInstance(ty.get(), ir::UseType<tags::T_ir_PrimType>())) {
    return DLDataType{kDLOpaqueHandle, 0, 0};
  }
  return ir::PodField<DLDataType>(ty.get(), ir::UseField<tags::F_ir_PrimType__dtype>());
}

/*! \brief Lanes of `e` (1 for a scalar; 0 when not primitive). */
template <int = 0>
inline int LanesOf(const Expr& e) {
  return ir::dtype::lanes(DataTypeOf(e));
}

}  // namespace tir
}  // namespace tvm_extend

#endif  // TVM_EXTEND_IR_EXPR_DTYPE_H_
