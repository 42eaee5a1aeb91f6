/*!
 * \file tvm_extend/op/relax_legalize.h
 * \brief Helpers for a Relax op's callbacks (<tvm_extend/op/relax_op.h>): reading a call's
 *        arguments and their types, making tensor types, and legalizing to `call_tir` of a
 *        PrimFunc made with the TIR builder.
 *
 * \code
 * tvm::ffi::ObjectRef InferTwice(tvm::ffi::ObjectRef call, tvm::ffi::ObjectRef) {
 *   std::optional<TensorInfo> x = TensorOf(TypeOf(CallArgs(call)[0]));
 *   if (!x) TVM_FFI_THROW(TypeError) << "myext.twice takes a tensor";
 *   return x->shape ? MakeTensorType(*x->shape, *x->dtype) : TypeOf(CallArgs(call)[0]);
 * }
 * tvm::ffi::ObjectRef LegalizeTwice(tvm::ffi::ObjectRef bb, tvm::ffi::ObjectRef call) {
 *   tir::FunctionBuilder b("twice");          // X -> Y = X * 2, destination-passing
 *   ...
 *   return EmitCallTIR(bb, b.Finish(), {CallArgs(call)[0]}, TypeOf(call));
 * }
 * \endcode
 *
 * Everything goes through TVM's registered functions (relax.TensorType, relax.ShapeExpr,
 * relax.BlockBuilderAddFunction, relax.op.call_tir) and reflection, never TVM's C++ headers.
 * Relax types are plain tvm::ffi::ObjectRef here; typed views of them can wrap these values.
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_OP_RELAX_LEGALIZE_H_
#define TVM_EXTEND_OP_RELAX_LEGALIZE_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/optional.h>
#include <tvm/ffi/reflection/accessor.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace op {

namespace relax_detail {
#pragma GCC visibility push(hidden)
using tvm::ffi::ObjectRef;
inline ::tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, int64_t, ObjectRef,
                                                  ObjectRef)>
    tensor_type{"relax.TensorType"};
inline ::tvm_extend::ir::GlobalFunction<ObjectRef(tvm::ffi::Array<ObjectRef>, ObjectRef)>
    shape_expr{"relax.ShapeExpr"};
inline ::tvm_extend::ir::GlobalFunction<tir::GlobalVar(ObjectRef, ObjectRef, tvm::ffi::String)>
    add_function{"relax.BlockBuilderAddFunction"};
inline ::tvm_extend::ir::GlobalFunction<tir::Expr(ObjectRef, ObjectRef, tvm::ffi::Array<ObjectRef>)>
    call_tir{"relax.op.call_tir"};
inline ::tvm_extend::ir::GlobalFunction<tir::Op(tvm::ffi::String)> get_op{"ir.GetOp"};
inline ::tvm_extend::ir::GlobalFunction<tir::Type()> type_missing{"ir.TypeMissing"};
inline ::tvm_extend::ir::GlobalFunction<tir::Call(ObjectRef, ObjectRef, tvm::ffi::Array<ObjectRef>,
                                                  ObjectRef, tvm::ffi::Array<ObjectRef>, ObjectRef)>
    make_call{"ir.Call"};

// Relax's own node types are read by reflection (by name, checked on first use).
inline tvm::ffi::Any Field(const ObjectRef& node, const char* type_key, const char* field) {
  tvm::ffi::reflection::FieldGetter getter(type_key, field);
  return getter(node);
}
#pragma GCC visibility pop
}  // namespace relax_detail

/*! \brief A Relax tensor type (relax.TensorType), read. */
struct TensorInfo {
  /*! \brief The dimensions, when the shape is known (each an int64 expression). */
  std::optional<std::vector<tir::Expr>> shape;
  /*! \brief The element type, when known. */
  std::optional<DLDataType> dtype;
  /*! \brief The number of dimensions; -1 when unknown. */
  int64_t ndim = -1;

  /*! \brief The dimensions as integers, when the shape is known and constant. */
  std::optional<std::vector<int64_t>> constant_shape() const {
    if (!shape) return std::nullopt;
    std::vector<int64_t> out;
    for (const tir::Expr& dim : *shape) {
      tir::IntImm imm = dim.as<tir::IntImm>();
      if (!imm.defined()) return std::nullopt;
      out.push_back(imm.value());
    }
    return out;
  }
};

/*! \brief The arguments of a call (an ir.Call). */
inline std::vector<tir::Expr> CallArgs(const tvm::ffi::ObjectRef& call) {
  std::vector<tir::Expr> out;
  for (const tir::Expr& arg : tir::Call(call).args()) out.push_back(arg);
  return out;
}

/*! \brief The type of an expression (its struct info, in TVM 0.27's words). */
inline tir::Type TypeOf(const tvm::ffi::ObjectRef& expr) { return tir::Expr(expr).ty(); }

/*! \brief `type` as a tensor type, or nothing when it is another type. */
inline std::optional<TensorInfo> TensorOf(const tvm::ffi::ObjectRef& type) {
  if (!type.defined() || type->GetTypeKey() != std::string_view("relax.TensorType")) {
    return std::nullopt;
  }
  TensorInfo info;
  info.ndim = relax_detail::Field(type, "relax.TensorType", "ndim").cast<int64_t>();
  auto dtype = relax_detail::Field(type, "relax.TensorType", "dtype")
                   .cast<tvm::ffi::Optional<tvm::ffi::ObjectRef>>();
  if (dtype.has_value()) {
    DLDataType dt = tir::PrimType(*dtype).dtype();
    if (dt.code != kDLOpaqueHandle || dt.bits != 0) info.dtype = dt;  // void: unknown
  }
  auto shape = relax_detail::Field(type, "relax.TensorType", "shape")
                   .cast<tvm::ffi::Optional<tvm::ffi::ObjectRef>>();
  if (shape.has_value() && (*shape)->GetTypeKey() == std::string_view("relax.expr.ShapeExpr")) {
    std::vector<tir::Expr> dims;
    for (const tvm::ffi::ObjectRef& v :
         relax_detail::Field(*shape, "relax.expr.ShapeExpr", "values")
             .cast<tvm::ffi::Array<tvm::ffi::ObjectRef>>()) {
      dims.push_back(tir::Expr(v));
    }
    info.shape = std::move(dims);
  }
  return info;
}

/*! \brief The element type of a scalar (ir.PrimType), or nothing for another type. */
inline std::optional<DLDataType> PrimOf(const tvm::ffi::ObjectRef& type) {
  tir::PrimType prim = tir::Type(type).as<tir::PrimType>();
  if (!prim.defined()) return std::nullopt;
  return prim.dtype();
}

/*! \brief A tensor type of known shape and element type (relax.TensorType). */
inline tvm::ffi::ObjectRef MakeTensorType(const std::vector<tir::Expr>& shape, DLDataType dtype) {
  tvm::ffi::Array<tvm::ffi::ObjectRef> dims(shape.begin(), shape.end());
  return relax_detail::tensor_type(relax_detail::shape_expr(dims, {}), tir::PrimType::Make(dtype),
                                   -1, {}, {});
}
inline tvm::ffi::ObjectRef MakeTensorType(const std::vector<int64_t>& shape, DLDataType dtype) {
  std::vector<tir::Expr> dims;
  for (int64_t d : shape) dims.push_back(tir::IntImm::Make(DLDataType{kDLInt, 64, 1}, d));
  return MakeTensorType(dims, dtype);
}

/*!
 * \brief Legalize to `call_tir`: adds `func` to the module being built (under its
 *        global_symbol, made unique by the block builder) and returns
 *        `R.call_tir(func, args, out_ty=out_type)`. `func` takes the arguments (tensors as
 *        buffers, scalars as scalars) followed by the output buffer (destination-passing).
 */
inline tvm::ffi::ObjectRef EmitCallTIR(const tvm::ffi::ObjectRef& block_builder,
                                       const tir::PrimFunc& func,
                                       const std::vector<tir::Expr>& args,
                                       const tvm::ffi::ObjectRef& out_type) {
  tvm::ffi::Any symbol = tvm::ffi::Any();
  for (const auto& [key, value] : func.attrs().__dict__()) {
    if (key == "global_symbol") symbol = value;
  }
  tvm::ffi::String name = symbol != nullptr ? symbol.cast<tvm::ffi::String>() : "kernel";
  tir::GlobalVar gv = relax_detail::add_function(block_builder, func, name);
  tir::Tuple tuple = tir::Tuple::Make(::tvm_extend::ir::List<tir::Expr>(
      tvm::ffi::Array<tvm::ffi::ObjectRef>(args.begin(), args.end())));
  return relax_detail::call_tir(gv, tuple, tvm::ffi::Array<tvm::ffi::ObjectRef>{out_type});
}

/*!
 * \brief A call of the op `op_name` (a Relax op TVM has, or one an extension registered); its
 *        type is inferred when a block builder normalizes or emits it.
 */
inline tir::Call MakeRelaxCall(const std::string& op_name, const std::vector<tir::Expr>& args) {
  return relax_detail::make_call(relax_detail::type_missing(), relax_detail::get_op(op_name),
                                 tvm::ffi::Array<tvm::ffi::ObjectRef>(args.begin(), args.end()), {},
                                 {}, {});
}

}  // namespace op
}  // namespace tvm_extend
#endif  // TVM_EXTEND_OP_RELAX_LEGALIZE_H_
