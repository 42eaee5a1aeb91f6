/*!
 * \file tvm_extend/ir/global_function.h
 * \brief Typed handles to TVM's global functions (analyses, simplifier, op helpers), with the
 *        signature checked against the running TVM at load time.
 *
 * \code
 * inline tvm_extend::ir::GlobalFunction<tir::Expr(tir::Expr, tir::Expr, tvm::ffi::ObjectRef)>
 *     left_shift{"prim.left_shift"};
 * tir::Expr e = left_shift(x, two, {});
 * \endcode
 *
 * The handle is looked up and its `type_schema` metadata compared with the C++ signature when
 * the loader loads the extension; a missing function or a changed signature refuses the load
 * with a SchemaError that names the function, both signatures and the TVM version.
 * Threading: handles are bound once, under the loader's lock, and read-only afterwards.
 */
#ifndef TVM_EXTEND_IR_GLOBAL_FUNCTION_H_
#define TVM_EXTEND_IR_GLOBAL_FUNCTION_H_

#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/extension/load_hooks.h>
#include <tvm_extend/ir/view.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace tvm_extend {
namespace ir {

/*! \brief The tvm-ffi schema type name a C++ parameter type stands for; "" accepts any. */
template <typename T>
inline std::string SchemaTypeOf() {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return "bool";
  } else if constexpr (std::is_integral_v<U>) {
    return "int";
  } else if constexpr (std::is_floating_point_v<U>) {
    return "float";
  } else if constexpr (std::is_same_v<U, DLDataType>) {
    return "DataType";
  } else if constexpr (std::is_same_v<U, tvm::ffi::String> || std::is_same_v<U, std::string>) {
    return "ffi.String";
  } else if constexpr (std::is_base_of_v<NodeRef, U> && !std::is_same_v<U, NodeRef>) {
    return U::kTypeKey;
  } else {
    return "";  // ObjectRef, Any, containers: not checked
  }
}

#pragma GCC visibility push(hidden)

struct GlobalFunctionSlot;
inline std::vector<GlobalFunctionSlot*>& GlobalFunctionSlots() {
  static std::vector<GlobalFunctionSlot*> slots;
  return slots;
}

/*! \brief A global function an extension calls, with the schema types it expects. */
struct GlobalFunctionSlot {
  const char* name;
  std::vector<std::string> expected;  // return type, then parameters
  /*! \brief For a constructor only the functors use: the node type it makes. Missing is fine
   *         when the running TVM has no such type (no such node is ever met). */
  const char* weak_type_key = nullptr;
  tvm::ffi::Function function;
  std::once_flag bound;
  GlobalFunctionSlot(const char* n, std::vector<std::string> types, const char* weak = nullptr)
      : name(n), expected(std::move(types)), weak_type_key(weak) {
    std::lock_guard<std::mutex> lock(SlotsMutex());
    GlobalFunctionSlots().push_back(this);
  }
  ~GlobalFunctionSlot() {
    std::lock_guard<std::mutex> lock(SlotsMutex());
    auto& slots = GlobalFunctionSlots();
    slots.erase(std::remove(slots.begin(), slots.end(), this), slots.end());
  }
  static std::mutex& SlotsMutex() {
    static std::mutex m;
    return m;
  }
};

/*! \brief Whether schema type `actual` may stand where `expected` is: equal (or a known other
 *         name of it), or a subtype. */
bool SameOrSubtype(const std::string& actual, const std::string& expected);
/*! \brief Return and parameter types of a function's type_schema; empty when TVM registered it
 *         without a signature. Reads {"args":[ret, params...]} and {"named_args":...}. */
std::vector<std::string> SchemaTypes(const std::string& schema);
/*! \brief "(a, b) -> r" for messages. */
std::string JoinSignature(const std::vector<std::string>& types);
/*! \brief Look up and check one handle on its first use outside the loader; throws. */
void BindGlobalFunction(GlobalFunctionSlot* slot);

template <typename Signature, bool kCheckResult = true>
class GlobalFunction;

/*! \brief A typed handle to a TVM global function; see the file comment. */
template <typename R, typename... Args, bool kCheckResult>
class GlobalFunction<R(Args...), kCheckResult> {
 public:
  explicit GlobalFunction(const char* name, const char* weak_type_key = nullptr)
      : slot_(name, std::vector<std::string>{SchemaTypeOf<R>(), SchemaTypeOf<Args>()...},
              weak_type_key) {}
  R operator()(Args... args) const {
    // Bound at load time in an extension; on first use elsewhere (thread-safe, this handle only).
    if (TVM_FFI_PREDICT_FALSE(!slot_.function.defined())) {
      std::call_once(slot_.bound, [this] { BindGlobalFunction(&slot_); });
    }
    if constexpr (std::is_void_v<R>) {
      slot_.function(std::forward<Args>(args)...);
    } else if constexpr (std::is_same_v<R, tvm::ffi::Any>) {
      return slot_.function(std::forward<Args>(args)...);  // whatever TVM returns, unchecked
    } else if constexpr (std::is_base_of_v<NodeRef, R>) {
      tvm::ffi::ObjectRef result =
          slot_.function(std::forward<Args>(args)...).template cast<tvm::ffi::ObjectRef>();
      if constexpr (kCheckResult) {
        return R(result);
      } else {
        // A constructor the functors use makes its own type (its signature was checked at bind
        // time); checking it again would make the type a strong use.
        return R(result, Unchecked{});
      }
    } else {
      return slot_.function(std::forward<Args>(args)...).template cast<R>();
    }
  }
  const char* name() const { return slot_.name; }

 private:
  mutable GlobalFunctionSlot slot_;
};

/*!
 * \brief The registered constructor of a generated view (its type tag names it), bound and
 *        signature-checked at load time like any GlobalFunction, and only if `Make` is used.
 *        The functors' rebuilds use it weakly (see GlobalFunctionSlot::weak_type_key).
 */
template <typename Tag, typename Signature, bool kStrong = true>
struct CtorBinding {
  static GlobalFunction<Signature, kStrong> fn;
};
template <typename Tag, typename Signature, bool kStrong>
GlobalFunction<Signature, kStrong> CtorBinding<Tag, Signature, kStrong>::fn{
    Tag::kTypeKey, kStrong ? nullptr : Tag::kNodeKey};
#pragma GCC visibility pop

}  // namespace ir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_GLOBAL_FUNCTION_H_
