/*!
 * \file tvm_extend/ir/func_attr.h
 * \brief Attributes of functions (PrimFunc and any other BaseFunc): GetAttr, WithAttr and
 *        WithoutAttr through TVM's `ir.BaseFuncWithAttr` / `ir.BaseFuncWithoutAttr`.
 *
 * \code
 * std::optional<tvm::ffi::String> name = GetAttr<tvm::ffi::String>(func, "global_symbol");
 * PrimFunc f2 = WithAttr(func, "tirx.noalias", true);   // `func` itself is unchanged
 * \endcode
 *
 * Copy-on-write: TVM's WithAttr copies the function when anyone else holds it, so the
 * function passed in is never modified; pass an rvalue you own to let TVM reuse it.
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_FUNC_ATTR_H_
#define TVM_EXTEND_IR_FUNC_ATTR_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <optional>
#include <string>
#include <utility>

namespace tvm_extend {
namespace tir {
namespace func_attr_detail {
#pragma GCC visibility push(hidden)
// The function parameter is an rvalue reference in TVM's schema (ObjectRValueRef), which
// the schema check does not know: it is declared as a plain ObjectRef here.
inline ::tvm_extend::ir::GlobalFunction<BaseFunc(tvm::ffi::ObjectRef, tvm::ffi::String,
                                                 tvm::ffi::Any)>
    with_attr{"ir.BaseFuncWithAttr"};
inline ::tvm_extend::ir::GlobalFunction<BaseFunc(tvm::ffi::ObjectRef, tvm::ffi::String)>
    without_attr{"ir.BaseFuncWithoutAttr"};
#pragma GCC visibility pop
}  // namespace func_attr_detail

/*! \brief Attribute `key` of `func` (None when absent). */
inline tvm::ffi::Any GetAttr(const BaseFunc& func, const std::string& key) {
  DictAttrs attrs = func.attrs();
  if (!attrs.defined()) return tvm::ffi::Any();
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> dict = attrs.__dict__();
  auto it = dict.find(key);
  return it == dict.end() ? tvm::ffi::Any() : (*it).second;
}

/*!
 * \brief Attribute `key` of `func` as a T, or nothing when absent; a TypeError from tvm-ffi
 *        naming both types when it is there with another type.
 */
template <typename T>
inline std::optional<T> GetAttr(const BaseFunc& func, const std::string& key) {
  tvm::ffi::Any value = GetAttr(func, key);
  if (value == nullptr) return std::nullopt;
  if constexpr (std::is_base_of_v<::tvm_extend::ir::NodeRef, T>) {
    return T(value.cast<tvm::ffi::ObjectRef>());
  } else {
    return value.cast<T>();
  }
}

/*! \brief `func` with attribute `key` set to `value` (a copy unless you hand it over). */
template <typename Func>
inline Func WithAttr(Func func, const std::string& key, tvm::ffi::Any value) {
  static_assert(std::is_base_of_v<BaseFunc, Func>, "WithAttr takes a function view");
  if (!func.defined()) TVM_FFI_THROW(ValueError) << "tvm-extend: WithAttr on a null function";
  BaseFunc out = func_attr_detail::with_attr(std::move(func), key, std::move(value));
  return out.template Downcast<Func>();
}

/*! \brief `func` without attribute `key` (a copy unless you hand it over). */
template <typename Func>
inline Func WithoutAttr(Func func, const std::string& key) {
  static_assert(std::is_base_of_v<BaseFunc, Func>, "WithoutAttr takes a function view");
  if (!func.defined()) TVM_FFI_THROW(ValueError) << "tvm-extend: WithoutAttr on a null function";
  BaseFunc out = func_attr_detail::without_attr(std::move(func), key);
  return out.template Downcast<Func>();
}

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_FUNC_ATTR_H_
