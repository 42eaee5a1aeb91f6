/*!
 * \file tvm_extend/op/relax_op.h
 * \brief New Relax ops from an extension: their arguments, type inference, purity,
 *        legalization and packed-call lowering.
 *
 * \code
 * TVM_EXTEND_REGISTER_RELAX_OP("myext.scaled_add", [] {
 *   return tvm_extend::op::RelaxOpSpec("x + alpha * y, with broadcasting")
 *       .input("x", "Tensor", "the first operand")
 *       .input("y", "Tensor", "the second operand, broadcast against x")
 *       .input("alpha", "Prim", "a scalar of x's dtype")
 *       .infer_type(InferScaledAdd)    // ObjectRef(ObjectRef call, ObjectRef block_builder)
 *       .pure()                        // FPurity
 *       .legalize(LegalizeScaledAdd);  // ObjectRef(ObjectRef block_builder, ObjectRef call)
 * });
 * TVM_EXTEND_REGISTER_RELAX_OP("myext.unique", [] {
 *   return tvm_extend::op::RelaxOpSpec("sorted unique values")
 *       .input("x", "Tensor", "the input")
 *       .infer_type(InferUnique)
 *       .call_packed("myext.run.unique");  // FCallPacked: LegalizeOps calls this function
 * });
 * \endcode
 *
 * The loader applies the spec through TVM's `ir.RegisterOp`, `ir.OpAddArgument`,
 * `ir.OpSetNumInputs` and `ir.RegisterOpAttr` after the same checks as a TIR op (the name is the
 * extension's, no op of that name exists, all of an extension's ops apply or none of their
 * attributes stay), under TVM's own attribute keys: `FInferType` (TVM 0.27's name for
 * FInferStructInfo), `FPurity`, `FLegalize` and `FCallPacked`. The inference and legalization
 * callbacks are guarded: whatever they throw fails the caller with an error that names the op
 * and prints the call (`type inference of Relax op myext.scaled_add failed for
 * T.myext.scaled_add(x, y, ...): ...`). A call_packed name must be a global function TVM has or
 * one the extension registers. TVM cannot delete an op, so an unloaded op stays known to TVM
 * without attributes (a call of it then has no inference, legalization or lowering), and only an
 * extension of the same name may register it again.
 *
 * Helpers for writing the callbacks (tensor types, emitting `call_tir` of a PrimFunc made with
 * the TIR builder) are in <tvm_extend/op/relax_legalize.h>; Python makes calls with
 * `tvm_extend.relax_op.op("myext.scaled_add")(x, y, alpha)`, also inside TVMScript.
 */
#ifndef TVM_EXTEND_OP_RELAX_OP_H_
#define TVM_EXTEND_OP_RELAX_OP_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/optional.h>
#include <tvm/ffi/string.h>

#include <string>
#include <utility>

namespace tvm_extend {
namespace op {

/*! \brief What a Relax op is: the loader turns it into TVM op registrations. */
class RelaxOpSpec {
 public:
  explicit RelaxOpSpec(std::string description) : description_(std::move(description)) {}

  /*!
   * \brief The next argument of the op: its name, its type in TVM's words ("Tensor", "Prim",
   *        "Shape", "Tuple", "Any") and a description, as TVM's `OpRegEntry::add_argument`
   *        records them. The number of arguments is the op's number of inputs.
   */
  RelaxOpSpec& input(const std::string& name, const std::string& type_info,
                     const std::string& description) {
    inputs_.push_back(tvm::ffi::Array<tvm::ffi::String>{name, type_info, description});
    return *this;
  }
  /*!
   * \brief Type inference (TVM's FInferType): `(call, block_builder) -> type` on ObjectRef
   *        values, returning the call's Relax type (a relax.TensorType, ...). Throw a
   *        tvm::ffi::Error (TypeError, ValueError) for a call the op does not accept.
   */
  template <typename F>
  RelaxOpSpec& infer_type(F&& fn) {
    infer_type_ = tvm::ffi::Function::FromTyped(std::forward<F>(fn));
    return *this;
  }
  /*! \brief TVM's FPurity: a pure op has no side effect and may sit in a dataflow block. */
  RelaxOpSpec& pure(bool is_pure = true) {
    pure_ = is_pure;
    return *this;
  }
  /*!
   * \brief Legalization (TVM's FLegalize): `(block_builder, call) -> expression`, used by
   *        `relax.transform.LegalizeOps` (and so by tvm.compile). EmitCallTIR in
   *        <tvm_extend/op/relax_legalize.h> adds a PrimFunc to the module and calls it.
   */
  template <typename F>
  RelaxOpSpec& legalize(F&& fn) {
    legalize_ = tvm::ffi::Function::FromTyped(std::forward<F>(fn));
    return *this;
  }
  /*!
   * \brief Packed-call lowering (TVM's FCallPacked): where no legalization applies, the call
   *        becomes a call of the global function `packed_name` with the call's arguments,
   *        returning its result (not destination-passing).
   */
  RelaxOpSpec& call_packed(std::string packed_name) {
    call_packed_ = std::move(packed_name);
    return *this;
  }
  /*! \brief Any other op attribute, under its key. */
  RelaxOpSpec& attr(const std::string& key, tvm::ffi::Any value) {
    attrs_.Set(key, std::move(value));
    return *this;
  }

  /*! \brief The spec as the loader reads it. */
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> ToMap() const {
    return {{"description", tvm::ffi::String(description_)},
            {"inputs", inputs_},
            {"infer_type", infer_type_},
            {"pure", pure_},
            {"legalize", legalize_},
            {"call_packed", tvm::ffi::String(call_packed_)},
            {"attrs", attrs_}};
  }

 private:
  std::string description_;
  tvm::ffi::Array<tvm::ffi::Array<tvm::ffi::String>> inputs_;
  tvm::ffi::Optional<tvm::ffi::Function> infer_type_;
  tvm::ffi::Optional<bool> pure_;
  tvm::ffi::Optional<tvm::ffi::Function> legalize_;
  std::string call_packed_;
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> attrs_;
};

}  // namespace op
}  // namespace tvm_extend
#endif  // TVM_EXTEND_OP_RELAX_OP_H_
