/*!
 * \file tvm_extend/config/config.h
 * \brief Pass config options: declared by an extension, set with
 *        `tvm.transform.PassContext(config={"myext.tile": 64})`, read from its C++ passes.
 *
 * \code
 *   #include <tvm_extend/config/config.h>
 *   // The option: its name (under the extension's prefix), type, default and doc string.
 *   TVM_EXTEND_REGISTER_PASS_CONFIG("myext.tile", int64_t, 16, "columns per tile");
 *   // Reading it inside a pass, from the current PassContext (the default when it is unset).
 *   const tvm_extend::config::PassConfig<int64_t> tile{"myext.tile", 16};
 *   int64_t t = tile.Get();        // or tile.Get(pass_context), the pass's third argument
 * \endcode
 *
 * A type is one of bool, int64_t, double and tvm::ffi::String ("bool", "int", "float", "str" in
 * `transform.ListConfigs`, as TVM names its own options). TVM converts a value given in a
 * PassContext to the option's type (an int for a float option is fine) and refuses one that does
 * not convert with a TypeError naming the option. TVM cannot remove an option: it outlives its
 * extension's unload, and a reload must keep its type (docs/config-options.md).
 */
#ifndef TVM_EXTEND_CONFIG_CONFIG_H_
#define TVM_EXTEND_CONFIG_CONFIG_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/reflection/accessor.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/errors.h>

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

namespace tvm_extend {
namespace config {

/*! \brief The four value types an option may have; anything else does not compile. */
template <typename T>
struct ValueTraits {
  static_assert(!std::is_same_v<T, T>,
                "a pass config option's type is bool, int64_t, double or tvm::ffi::String");
  static constexpr int32_t kCode = -1;
};
template <>
struct ValueTraits<bool> {
  static constexpr int32_t kCode = kTVMExtendConfigBool;
};
template <>
struct ValueTraits<int64_t> {
  static constexpr int32_t kCode = kTVMExtendConfigInt;
};
template <>
struct ValueTraits<double> {
  static constexpr int32_t kCode = kTVMExtendConfigFloat;
};
template <>
struct ValueTraits<tvm::ffi::String> {
  static constexpr int32_t kCode = kTVMExtendConfigString;
};

/*! \brief "bool", "int", "float", "str" (TVM's names, as transform.ListConfigs shows them). */
inline const char* TypeName(int32_t code) {
  switch (code) {
    case kTVMExtendConfigBool:
      return "bool";
    case kTVMExtendConfigInt:
      return "int";
    case kTVMExtendConfigFloat:
      return "float";
    case kTVMExtendConfigString:
      return "str";
    default:
      return nullptr;
  }
}

/*! \brief "an int (3)", "a str ('big')", "a tirx.Var": a value, for error messages. */
inline std::string DescribeValue(const tvm::ffi::AnyView& value) {
  if (value == nullptr) return "None";
  switch (value.type_index()) {
    case tvm::ffi::TypeIndex::kTVMFFIBool:
      return std::string("a bool (") + (value.cast<bool>() ? "True" : "False") + ")";
    case tvm::ffi::TypeIndex::kTVMFFIInt:
      return "an int (" + std::to_string(value.cast<int64_t>()) + ")";
    case tvm::ffi::TypeIndex::kTVMFFIFloat: {
      std::ostringstream os;
      os << value.cast<double>();
      return "a float (" + os.str() + ")";
    }
    default:
      break;
  }
  if (auto s = value.try_cast<tvm::ffi::String>()) return "a str ('" + std::string(*s) + "')";
  return "a " + value.GetTypeKey();
}

/*! \brief `value` as an option of type `code` takes it (TVM's conversions), or none. */
inline std::optional<tvm::ffi::Any> Convert(int32_t code, const tvm::ffi::AnyView& value) {
  switch (code) {
    case kTVMExtendConfigBool:
      if (auto v = value.try_cast<bool>()) return tvm::ffi::Any(*v);
      break;
    case kTVMExtendConfigInt:
      if (auto v = value.try_cast<int64_t>()) return tvm::ffi::Any(*v);
      break;
    case kTVMExtendConfigFloat:
      if (auto v = value.try_cast<double>()) return tvm::ffi::Any(*v);
      break;
    case kTVMExtendConfigString:
      if (auto v = value.try_cast<tvm::ffi::String>()) return tvm::ffi::Any(*v);
      break;
    default:
      break;
  }
  return std::nullopt;
}

/*! \brief The current `transform.PassContext` (TVM's default one outside any `with`). */
inline tvm::ffi::ObjectRef CurrentPassContext() {
  static tvm::ffi::Function current =
      tvm::ffi::Function::GetGlobalRequired("transform.GetCurrentPassContext");
  return current().cast<tvm::ffi::ObjectRef>();
}

/*!
 * \brief A typed handle on one option, for reading it in C++ passes. Reading is cheap enough for
 *        once per pass invocation (a global call and a map lookup).
 */
template <typename T>
class PassConfig {
 public:
  PassConfig(const char* key, T default_value) : key_(key), default_(std::move(default_value)) {}

  const char* key() const { return key_; }
  const T& default_value() const { return default_; }

  /*! \brief Its value in the current PassContext, or the default when it is not set. */
  T Get() const { return Get(CurrentPassContext()); }

  /*!
   * \brief Its value in `pass_context` (a transform.PassContext, e.g. the third argument of a
   *        PrimFunc pass), or the default. A value of another type (a PassContext made without
   *        TVM's checks, or an option registered with another type) is a TypeError naming the
   *        option.
   */
  T Get(const tvm::ffi::ObjectRef& pass_context) const {
    static const int32_t context_index = [] {
      int32_t index = -1;
      TVMFFIByteArray key{"transform.PassContext", 21};
      TVM_FFI_CHECK_SAFE_CALL(TVMFFITypeKeyToIndex(&key, &index));
      return index;
    }();
    if (!pass_context.defined() || pass_context->type_index() != context_index) {
      throw tvm::ffi::Error(error_kind::kType,
                            std::string("reading pass config option '") + key_ +
                                "': expected a transform.PassContext, got " +
                                DescribeValue(tvm::ffi::AnyView(pass_context)),
                            "");
    }
    static const tvm::ffi::reflection::FieldGetter config_field("transform.PassContext", "config");
    tvm::ffi::Any config = config_field(pass_context);
    if (config == nullptr) return default_;
    auto map = config.cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>();
    auto it = map.find(key_);
    if (it == map.end()) return default_;
    if (auto value = (*it).second.try_cast<T>()) return *value;
    throw tvm::ffi::Error(error_kind::kType,
                          std::string("pass config option '") + key_ + "' holds " +
                              DescribeValue((*it).second) + ", but this code reads it as " +
                              (ValueTraits<T>::kCode == kTVMExtendConfigInt ? "an " : "a ") +
                              TypeName(ValueTraits<T>::kCode),
                          "");
  }

 private:
  const char* key_;
  T default_;
};

namespace detail {
/*! \brief The spec TVM_EXTEND_REGISTER_PASS_CONFIG's factory returns to the loader. */
template <typename T>
tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> MakeSpec(T default_value, const char* doc) {
  return {{"type", tvm::ffi::String(TypeName(ValueTraits<T>::kCode))},
          {"code", int64_t{ValueTraits<T>::kCode}},
          {"default", tvm::ffi::Any(std::move(default_value))},
          {"doc", tvm::ffi::String(doc)}};
}
}  // namespace detail

}  // namespace config
}  // namespace tvm_extend
#endif  // TVM_EXTEND_CONFIG_CONFIG_H_
