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
  tvm::ffi::Function function;
  std::once_flag bound;
  GlobalFunctionSlot(const char* n, std::vector<std::string> types)
      : name(n), expected(std::move(types)) {
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

/*! \brief Whether schema type `actual` may stand where `expected` is: equal, or a subtype. */
inline bool SameOrSubtype(const std::string& actual, const std::string& expected) {
  if (actual == expected) return true;
  // A C++ integer converts to and from TVM's arbitrary-precision integers.
  if ((actual == "int" && expected == "ffi.BigInt") ||
      (actual == "ffi.BigInt" && expected == "int")) {
    return true;
  }
  // Functions typed with std::string take and return tvm-ffi strings.
  auto is_string = [](const std::string& t) { return t == "ffi.String" || t == "std::string"; };
  if (is_string(actual) && is_string(expected)) return true;
  int32_t a = -1, e = -1;
  TVMFFIByteArray ak{actual.data(), actual.size()}, ek{expected.data(), expected.size()};
  if (TVMFFITypeKeyToIndex(&ak, &a) != 0 || TVMFFITypeKeyToIndex(&ek, &e) != 0) {
    (void)tvm::ffi::detail::MoveFromSafeCallRaised();
    return false;
  }
  const TVMFFITypeInfo* ai = TVMFFIGetTypeInfo(a);
  const TVMFFITypeInfo* ei = TVMFFIGetTypeInfo(e);
  return ai->type_depth > ei->type_depth && ai->type_ancestors[ei->type_depth]->type_index == e;
}

/*! \brief The "type" of each object directly inside the JSON list that opens at `open`. */
inline std::vector<std::string> ListTypes(const std::string& json, size_t open) {
  std::vector<std::string> out;
  int depth = 0;
  for (size_t i = open; i < json.size(); ++i) {
    char c = json[i];
    if (c == '[' || c == '{') {
      if (++depth == 2 && c == '{') {
        size_t begin = json.find("\"type\":\"", i) + 8;
        std::string type = json.substr(begin, json.find('"', begin) - begin);
        if (type == "Optional") {  // Optional[T] takes a T (or nothing)
          size_t inner = json.find("\"type\":\"", begin) + 8;
          type = json.substr(inner, json.find('"', inner) - inner);
        }
        out.push_back(type);
      }
    } else if ((c == ']' || c == '}') && --depth == 0) {
      break;
    }
  }
  return out;
}

/*!
 * \brief Return and parameter types of a function's type_schema, or nothing when TVM
 *        registered it without a signature (a packed function: only its existence is checked).
 *        Both schema forms are read: {"args":[ret, params...]} and
 *        {"named_args":{"return":[ret],"params":[...]}}.
 */
inline std::vector<std::string> SchemaTypes(const std::string& schema) {
  size_t named = schema.find("\"named_args\"");
  if (named != std::string::npos) {
    std::vector<std::string> ret = ListTypes(schema, schema.find('[', schema.find("\"return\"")));
    std::vector<std::string> params =
        ListTypes(schema, schema.find('[', schema.find("\"params\"")));
    ret.resize(1);
    ret.insert(ret.end(), params.begin(), params.end());
    return ret;
  }
  size_t args = schema.find("\"args\"");
  if (args == std::string::npos) return {};
  return ListTypes(schema, schema.find('[', args));
}

inline std::string JoinSignature(const std::vector<std::string>& types) {
  std::string out = "(";
  for (size_t i = 1; i < types.size(); ++i) {
    out += (i > 1 ? ", " : "") + (types[i].empty() ? std::string("Any") : types[i]);
  }
  return out + ") -> " + (types.empty() || types[0].empty() ? std::string("Any") : types[0]);
}

/*! \brief Look up and check one handle; throws SchemaError. */
inline void BindGlobalFunction(GlobalFunctionSlot* slot) {
  static const tvm::ffi::Function metadata =
      abi::RequireGlobal("ffi.GetGlobalFuncMetadata", "tvm_extend::ir::GlobalFunction");
  std::optional<tvm::ffi::Function> f = tvm::ffi::Function::GetGlobal(slot->name);
  if (!f.has_value()) {
    SchemaError("it has no global function `" + std::string(slot->name) + "` (expected " +
                JoinSignature(slot->expected) + ")");
  }
  std::string meta = metadata(tvm::ffi::String(slot->name)).cast<tvm::ffi::String>();
  size_t at = meta.find("\"type_schema\":");
  if (at != std::string::npos) {
    // The schema is a JSON string inside the metadata JSON: unescape it.
    std::string schema;
    for (size_t i = meta.find('"', at + 14) + 1; i < meta.size() && meta[i] != '"'; ++i) {
      if (meta[i] == '\\' && i + 1 < meta.size()) ++i;
      schema.push_back(meta[i]);
    }
    std::vector<std::string> actual = SchemaTypes(schema);
    bool ok = actual.empty() || actual.size() == slot->expected.size();
    for (size_t i = 0; ok && !actual.empty() && i < actual.size(); ++i) {
      const std::string& want = slot->expected[i];
      // The return value may be more specific than expected; a parameter may be more general.
      ok = want.empty() || actual[i] == "Any" ||
           (i == 0 ? SameOrSubtype(actual[i], want) : SameOrSubtype(want, actual[i]));
    }
    if (!ok) {
      SchemaError("global function `" + std::string(slot->name) + "` has signature " +
                  JoinSignature(actual) + ", but the extension calls it as " +
                  JoinSignature(slot->expected));
    }
  }
  slot->function = *f;
}

/*! \brief The load hook: bind every handle of this library. */
inline void BindGlobalFunctions() {
  std::vector<GlobalFunctionSlot*> slots;
  {
    std::lock_guard<std::mutex> lock(GlobalFunctionSlot::SlotsMutex());
    slots = GlobalFunctionSlots();
  }
  for (GlobalFunctionSlot* slot : slots) {
    std::call_once(slot->bound, [slot] { BindGlobalFunction(slot); });
  }
}

inline ::tvm_extend::detail::LoadHookRegistrar bind_global_functions_on_load{&BindGlobalFunctions};

template <typename Signature>
class GlobalFunction;

/*! \brief A typed handle to a TVM global function; see the file comment. */
template <typename R, typename... Args>
class GlobalFunction<R(Args...)> {
 public:
  explicit GlobalFunction(const char* name)
      : slot_(name, std::vector<std::string>{SchemaTypeOf<R>(), SchemaTypeOf<Args>()...}) {}
  R operator()(Args... args) const {
    // Bound at load time in an extension; on first use elsewhere (thread-safe, this handle only).
    std::call_once(slot_.bound, [this] { BindGlobalFunction(&slot_); });
    if constexpr (std::is_void_v<R>) {
      slot_.function(std::forward<Args>(args)...);
    } else if constexpr (std::is_same_v<R, tvm::ffi::Any>) {
      return slot_.function(std::forward<Args>(args)...);  // whatever TVM returns, unchecked
    } else if constexpr (std::is_base_of_v<NodeRef, R>) {
      return R(slot_.function(std::forward<Args>(args)...).template cast<tvm::ffi::ObjectRef>());
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
 */
template <typename Tag, typename Signature>
struct CtorBinding {
  static GlobalFunction<Signature> fn;
};
template <typename Tag, typename Signature>
GlobalFunction<Signature> CtorBinding<Tag, Signature>::fn{Tag::kTypeKey};
#pragma GCC visibility pop

}  // namespace ir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_GLOBAL_FUNCTION_H_
