/*!
 * \file tvm_extend/op/op.h
 * \brief New TIR ops from an extension: their attributes and per-target lowering.
 *
 * \code
 * TVM_EXTEND_REGISTER_OP("myext.fma", [] {
 *   return tvm_extend::op::OpSpec("a * b + c, fused")
 *       .num_inputs(3)
 *       .attr("TCallEffectKind", int64_t{1})  // pure
 *       .lower("llvm", LowerFma);             // tvm::ffi::ObjectRef(tvm::ffi::ObjectRef call)
 * });
 * \endcode
 *
 * The loader applies the spec through TVM's own `ir.RegisterOp`, `ir.RegisterOpAttr` and
 * `tirx.RegisterOpLowerIntrinsic`, after the same checks as every registration: the name starts
 * with the extension's, no op of that name exists (an error names its owner), and all of an
 * extension's ops apply or none of their attributes stay. TVM cannot delete an op, so an op
 * whose attributes were rolled back or unloaded stays known to TVM, without attributes.
 * In TVMScript the op is `T.call_intrin(dtype, "myext.fma", a, b, c)`; TVM's LowerIntrin pass
 * (part of every tvm.compile) calls the lowering for the target. `.call_effect(CallEffect::kPure)`
 * sets TVM's `TCallEffectKind`, which TVM's passes respect (a pure call whose value is unused is
 * removed, an opaque one stays).
 *
 * An attribute of one of TVM's existing ops is an owned override instead:
 * \code
 * TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.exp", "llvm.FLowerIntrinsic", LowerExp);  // a lowering
 * TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.rsqrt", "TVectorizable", true);           // a value
 * \endcode
 * The loader refuses an op TVM does not have and an (op, attribute) another extension overrides
 * (naming both), saves TVM's value, and puts it back on unload or when a reload drops it.
 */
#ifndef TVM_EXTEND_OP_OP_H_
#define TVM_EXTEND_OP_OP_H_

#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <string>
#include <type_traits>
#include <utility>

namespace tvm_extend {
namespace op {

/*!
 * \brief TVM's call effects (`tvm.tirx.CallEffectKind`, the op attribute `TCallEffectKind`):
 *        what TVM's passes may assume about a call of the op.
 */
enum class CallEffect : int64_t {
  /*! \brief No side effect, no state read: a call whose value is unused may be removed. */
  kPure = 1,
  /*! \brief Reads state (memory, registers) but changes none. */
  kReadState = 2,
  /*! \brief Changes state: never removed, never merged. */
  kUpdateState = 3,
  /*! \brief Anything at all; TVM 0.27 treats it as kUpdateState. */
  kOpaque = 3,
};

namespace detail {
template <typename T, typename = void>
struct HasCallOperator : std::false_type {};
template <typename T>
struct HasCallOperator<T, std::void_t<decltype(&T::operator())>> : std::true_type {};
}  // namespace detail

/*!
 * \brief An attribute value for TVM_EXTEND_OVERRIDE_OP_ATTR: a function or lambda becomes a
 *        typed tvm::ffi::Function, anything else (bool, int, string, an object) is kept.
 */
template <typename T>
tvm::ffi::Any OverrideValue(T&& value) {
  using D = std::decay_t<T>;
  if constexpr (std::is_base_of_v<tvm::ffi::ObjectRef, D>) {
    return tvm::ffi::Any(std::forward<T>(value));
  } else if constexpr ((std::is_pointer_v<D> && std::is_function_v<std::remove_pointer_t<D>>) ||
                       detail::HasCallOperator<D>::value) {
    return tvm::ffi::Function::FromTyped(D(std::forward<T>(value)));
  } else {
    return tvm::ffi::Any(std::forward<T>(value));
  }
}

/*! \brief What an op is: the loader turns it into TVM op registrations. */
class OpSpec {
 public:
  explicit OpSpec(std::string description) : description_(std::move(description)) {}

  /*! \brief The number of arguments the op takes (-1: any). */
  OpSpec& num_inputs(int64_t n) {
    num_inputs_ = n;
    return *this;
  }
  /*! \brief An op attribute, e.g. "TCallEffectKind" (1 is pure). */
  OpSpec& attr(const std::string& key, tvm::ffi::Any value) {
    attrs_.Set(key, std::move(value));
    return *this;
  }
  /*! \brief TVM's `TCallEffectKind` of the op: what TVM's passes may assume about a call. */
  OpSpec& call_effect(CallEffect effect) { return attr("TCallEffectKind", int64_t(effect)); }
  /*! \brief The lowering for `target` (e.g. "llvm", "c", "default"): call -> expression. */
  template <typename F>
  OpSpec& lower(const std::string& target, F&& lowering) {
    lowerings_.Set(target, tvm::ffi::Function::FromTyped(std::forward<F>(lowering)));
    return *this;
  }

  /*! \brief The spec as the loader reads it. */
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> ToMap() const {
    return {{"description", tvm::ffi::String(description_)},
            {"num_inputs", num_inputs_},
            {"attrs", attrs_},
            {"lowerings", lowerings_}};
  }

 private:
  std::string description_;
  int64_t num_inputs_ = -1;
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> attrs_;
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Function> lowerings_;
};

}  // namespace op
}  // namespace tvm_extend
#endif  // TVM_EXTEND_OP_OP_H_
