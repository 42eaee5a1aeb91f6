/*!
 * \file tvm_extend/ir/view.h
 * \brief Typed views of TVM IR nodes, bound to the running TVM by type key and field name.
 *
 * A view is an ObjectRef that knows the type key of its node. Its field accessors read the
 * field at the offset that the running TVM reports through tvm-ffi reflection, resolved once at
 * load time. Nothing is compiled against TVM's C++ headers, so an extension keeps working when
 * TVM reorders or extends a node, and fails at load time, with a message naming the type, the
 * field, what was expected and the TVM version, when a field it uses changed its type or went
 * away.
 *
 * The view classes for TIR are generated from the installed TVM's reflection metadata by
 * `python -m tvm_extend.ir_views` (run by tvm_extend_add_extension()); this header holds the
 * machinery they share.
 *
 * Binding: every field and type that an extension's code *uses* registers a slot in a list
 * private to the extension library (a static member of a class template, instantiated only on
 * use). The loader calls BindSchema() before it creates any function of the extension, so a
 * schema mismatch refuses the load and nothing registers.
 *
 * Threading: BindSchema runs once, under the loader's lock; afterwards slots are read-only.
 */
#ifndef TVM_EXTEND_IR_VIEW_H_
#define TVM_EXTEND_IR_VIEW_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/dtype.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/object.h>
#include <tvm/ffi/reflection/accessor.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>
#include <tvm_extend/extension/errors.h>
#include <tvm_extend/extension/load_hooks.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace ir {

/*! \brief How a field is stored in the node, as the generator saw it. Checked at bind time. */
enum class FieldKind : int32_t {
  kObject = 0,    // an ObjectRef (nullable pointer): nodes, Array, Map, Optional<node>
  kInt32 = 1,     // "int" stored in 4 bytes
  kInt64 = 2,     // "int" stored in 8 bytes
  kBool = 3,      // "bool"
  kFloat64 = 4,   // "float"
  kDataType = 5,  // "DataType" (DLDataType)
  kGetter = 6,    // anything else (String, BigInt, Any, ...): read through the field getter
};

#pragma GCC visibility push(hidden)

struct FieldSlot;
struct TypeSlot;

/*! \brief The slots this extension library uses, in registration order. */
inline std::vector<FieldSlot*>& FieldSlots() {
  static std::vector<FieldSlot*> slots;
  return slots;
}
inline std::vector<TypeSlot*>& TypeSlots() {
  static std::vector<TypeSlot*> slots;
  return slots;
}

/*! \brief A node type the extension uses, with its runtime type index once bound. */
struct TypeSlot {
  const char* type_key;
  /*! \brief The parent type the generator saw ("" when not checked). */
  const char* parent_key = "";
  int32_t type_index = -1;
  int32_t type_depth = -1;
  /*! \brief The type's `__ffi_shallow_copy__`, for copy-on-write rebuilds. */
  tvm::ffi::Function shallow_copy;
  TypeSlot(const char* key, const char* parent) : type_key(key), parent_key(parent) {
    TypeSlots().push_back(this);
  }
};

/*! \brief A field the extension uses, with its offset in the running TVM once bound. */
struct FieldSlot {
  const char* type_key;
  const char* name;
  const char* type_schema;
  FieldKind kind;
  int64_t size;
  int64_t offset = -1;
  TVMFFIFieldGetter getter = nullptr;
  FieldSlot(const char* key, const char* field, const char* schema, FieldKind k, int64_t sz)
      : type_key(key), name(field), type_schema(schema), kind(k), size(sz) {
    FieldSlots().push_back(this);
  }
};

/*! \brief The slot of a type tag: `struct Tag { static constexpr const char* kTypeKey; }`. */
template <typename Tag>
struct TypeBinding {
  static TypeSlot slot;
};
template <typename Tag>
TypeSlot TypeBinding<Tag>::slot{Tag::kTypeKey, Tag::kParentKey};

/*! \brief The slot of a field tag (kTypeKey, kName, kSchema, kKind, kSize). */
template <typename Tag>
struct FieldBinding {
  static FieldSlot slot;
};
template <typename Tag>
FieldSlot FieldBinding<Tag>::slot{Tag::kTypeKey, Tag::kName, Tag::kSchema, Tag::kKind, Tag::kSize};

/*! \brief The running TVM's version, for messages; empty when unknown. */
inline std::string RunningTVMVersionForMessages() {
  std::optional<tvm::ffi::Function> f = tvm::ffi::Function::GetGlobal("tvm_extend.RunningVersions");
  if (!f.has_value()) return "(unknown)";
  return (*f)()
      .cast<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>>()["tvm"]
      .cast<tvm::ffi::String>();
}

[[noreturn]] inline void SchemaError(const std::string& what) {
  throw tvm::ffi::Error(error_kind::kSchema,
                        "the running TVM " + RunningTVMVersionForMessages() +
                            " does not match the IR schema this extension was built with: " + what,
                        "");
}

inline std::string_view AsView(const TVMFFIByteArray& b) { return {b.data, b.size}; }

inline const TVMFFITypeInfo* LookupType(const char* type_key, int32_t* index) {
  TVMFFIByteArray key{type_key, std::strlen(type_key)};
  if (TVMFFITypeKeyToIndex(&key, index) != 0) {
    (void)tvm::ffi::detail::MoveFromSafeCallRaised();
    return nullptr;
  }
  return TVMFFIGetTypeInfo(*index);
}

/*! \brief The type's `type_schema` string of a field, as found in its JSON metadata. */
inline std::string FieldSchema(const TVMFFIFieldInfo& f) {
  std::string_view meta = AsView(f.metadata);
  constexpr std::string_view kKey = "\"type_schema\":";
  size_t at = meta.find(kKey);
  if (at == std::string_view::npos) return "";
  // The value is a JSON string holding the schema; unescape its quotes.
  size_t begin = meta.find('"', at + kKey.size());
  std::string out;
  for (size_t i = begin + 1; i < meta.size(); ++i) {
    if (meta[i] == '\\' && i + 1 < meta.size()) {
      out.push_back(meta[++i]);
    } else if (meta[i] == '"') {
      break;
    } else {
      out.push_back(meta[i]);
    }
  }
  return out;
}

/*!
 * \brief Resolve every used type and field against the running TVM. Idempotent.
 * \throws tvm::ffi::Error of kind "SchemaError" naming the type, the field, what was expected,
 *         what was found and the TVM version.
 */
inline void BindSchema() {
  static const TVMFFIByteArray kShallowCopy{"__ffi_shallow_copy__", 20};
  const TVMFFITypeAttrColumn* copy_column = TVMFFIGetTypeAttrColumn(&kShallowCopy);
  for (TypeSlot* slot : TypeSlots()) {
    int32_t index = -1;
    const TVMFFITypeInfo* info = LookupType(slot->type_key, &index);
    if (info == nullptr)
      SchemaError("it has no IR node type `" + std::string(slot->type_key) + "`");
    if (slot->parent_key[0] != '\0') {
      std::string_view parent = info->type_depth > 0
                                    ? AsView(info->type_ancestors[info->type_depth - 1]->type_key)
                                    : std::string_view("");
      if (parent != slot->parent_key) {
        SchemaError("`" + std::string(slot->type_key) + "` derives from `" + std::string(parent) +
                    "`, but the extension was built for a `" + slot->type_key +
                    "` that derives from `" + slot->parent_key + "`");
      }
    }
    slot->type_index = index;
    slot->type_depth = info->type_depth;
    if (copy_column != nullptr && index >= copy_column->begin_index &&
        index < copy_column->begin_index + copy_column->size) {
      const TVMFFIAny& cell = copy_column->data[index - copy_column->begin_index];
      if (cell.type_index == tvm::ffi::TypeIndex::kTVMFFIFunction) {
        slot->shallow_copy =
            tvm::ffi::detail::ObjectUnsafe::ObjectRefFromObjectPtr<tvm::ffi::Function>(
                tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromUnowned<tvm::ffi::Object>(cell.v_obj));
      }
    }
  }
  for (FieldSlot* slot : FieldSlots()) {
    int32_t index = -1;
    const TVMFFITypeInfo* info = LookupType(slot->type_key, &index);
    if (info == nullptr)
      SchemaError("it has no IR node type `" + std::string(slot->type_key) + "`");
    const TVMFFIFieldInfo* found = nullptr;
    // A field may be declared on the type or on one of its ancestors.
    for (int32_t depth = info->type_depth; depth >= 0 && found == nullptr; --depth) {
      const TVMFFITypeInfo* t = depth == info->type_depth ? info : info->type_ancestors[depth];
      for (int32_t i = 0; i < t->num_fields; ++i) {
        if (AsView(t->fields[i].name) == slot->name) {
          found = &t->fields[i];
          break;
        }
      }
    }
    std::string where = "`" + std::string(slot->type_key) + "." + slot->name + "`";
    if (found == nullptr) {
      SchemaError(where + " does not exist (expected a field of type " + slot->type_schema + ")");
    }
    std::string schema = FieldSchema(*found);
    if (schema != slot->type_schema || found->size != slot->size) {
      SchemaError(where + " has type " + schema + " (" + std::to_string(found->size) +
                  " bytes), but the extension expects " + slot->type_schema + " (" +
                  std::to_string(slot->size) + " bytes)");
    }
    slot->offset = found->offset;
    slot->getter = found->getter;
  }
}

/*!
 * \brief Bind the schema when the loader loads the extension (before any of its functions is
 *        created). A program that uses views outside an extension calls BindSchema() itself.
 */
inline ::tvm_extend::detail::LoadHookRegistrar bind_schema_on_load{&BindSchema};

[[noreturn]] inline void UnboundError(const char* what) {
  TVM_FFI_THROW(RuntimeError) << "tvm-extend: the view of `" << what
                              << "` is used before tvm_extend::ir::BindSchema() ran (the loader "
                                 "runs it for extensions; a C++ host program calls it itself)";
}

/*! \brief Whether `obj` is of the bound type or derives from it. */
inline bool IsInstance(const tvm::ffi::Object* obj, const TypeSlot& slot) {
  if (TVM_FFI_PREDICT_FALSE(slot.type_depth < 0)) UnboundError(slot.type_key);
  if (obj == nullptr) return false;
  int32_t index = obj->type_index();
  if (index == slot.type_index) return true;
  const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(index);
  return info->type_depth > slot.type_depth &&
         info->type_ancestors[slot.type_depth]->type_index == slot.type_index;
}

/*! \brief The address of a field, after checking the slot is bound and the node is not null. */
inline const char* FieldAddress(const tvm::ffi::Object* obj, const FieldSlot& slot) {
  if (TVM_FFI_PREDICT_FALSE(slot.offset < 0)) UnboundError(slot.type_key);
  if (TVM_FFI_PREDICT_FALSE(obj == nullptr)) {
    TVM_FFI_THROW(ValueError) << "reading field `" << slot.name << "` of a null `" << slot.type_key
                              << "` view";
  }
  return reinterpret_cast<const char*>(obj) + slot.offset;
}

/*! \brief Read an object field (kObject). */
inline const tvm::ffi::ObjectRef& ObjectField(const tvm::ffi::Object* obj, const FieldSlot& slot) {
  return *reinterpret_cast<const tvm::ffi::ObjectRef*>(FieldAddress(obj, slot));
}

/*! \brief Read any field through its getter (kGetter). */
inline tvm::ffi::Any GetterField(const tvm::ffi::Object* obj, const FieldSlot& slot) {
  tvm::ffi::Any result;
  const char* address = FieldAddress(obj, slot);
  TVM_FFI_CHECK_SAFE_CALL(
      slot.getter(const_cast<char*>(address), reinterpret_cast<TVMFFIAny*>(&result)));
  return result;
}

template <typename T>
inline T PodField(const tvm::ffi::Object* obj, const FieldSlot& slot) {
  T value;
  std::memcpy(&value, FieldAddress(obj, slot), sizeof(T));
  return value;
}

/*!
 * \brief A new node equal to `node`, of the node's own runtime type (not the view's), through
 *        that type's `__ffi_shallow_copy__`.
 */
inline tvm::ffi::ObjectRef ShallowCopy(const tvm::ffi::ObjectRef& node) {
  static const TVMFFIByteArray kShallowCopy{"__ffi_shallow_copy__", 20};
  static const TVMFFITypeAttrColumn* column = TVMFFIGetTypeAttrColumn(&kShallowCopy);
  const int32_t index = node->type_index();
  if (column == nullptr || index < column->begin_index ||
      index >= column->begin_index + column->size ||
      column->data[index - column->begin_index].type_index !=
          tvm::ffi::TypeIndex::kTVMFFIFunction) {
    TVM_FFI_THROW(RuntimeError) << "tvm-extend: the running TVM cannot copy `" << node->GetTypeKey()
                                << "` nodes (no __ffi_shallow_copy__)";
  }
  tvm::ffi::AnyView arg(node);
  tvm::ffi::Any result;
  const auto* copy = reinterpret_cast<const tvm::ffi::FunctionObj*>(
      column->data[index - column->begin_index].v_obj);
  copy->CallPacked(&arg, 1, &result);
  return std::move(result).cast<tvm::ffi::ObjectRef>();
}
inline tvm::ffi::ObjectRef ShallowCopy(const tvm::ffi::ObjectRef& node, const TypeSlot&) {
  return ShallowCopy(node);
}

/*! \brief Write an object field of a node nobody else holds yet (a fresh copy). */
inline void SetObjectField(tvm::ffi::Object* fresh, const FieldSlot& slot, tvm::ffi::ObjectRef v) {
  *reinterpret_cast<tvm::ffi::ObjectRef*>(reinterpret_cast<char*>(fresh) + slot.offset) =
      std::move(v);
}

#pragma GCC visibility pop

/*! \brief Tag of the view constructors that skip the type check (the caller knows). */
struct Unchecked {};

[[noreturn]] inline void WrongType(const char* expected, const tvm::ffi::ObjectRef& got) {
  TVM_FFI_THROW(TypeError) << "expected " << expected << " but got " << got->GetTypeKey();
}

[[noreturn]] inline void NullResult(const char* type_key, const char* field) {
  TVM_FFI_THROW(ValueError) << "a mutator returned null for field `" << field << "` of `"
                            << type_key << "`, which needs a node";
}

/*!
 * \brief Base of all views: a nullable reference to a TVM node.
 *
 * Views are as cheap as ObjectRef. Converting a reference to a view is checked with `as<T>()`
 * (returns a null view on mismatch) or `Downcast<T>()` (throws).
 */
class NodeRef : public tvm::ffi::ObjectRef {
 public:
  NodeRef() = default;
  explicit NodeRef(const tvm::ffi::ObjectRef& ref) : tvm::ffi::ObjectRef(ref) {}
  NodeRef(const tvm::ffi::ObjectRef& ref, Unchecked) : tvm::ffi::ObjectRef(ref) {}
  explicit NodeRef(tvm::ffi::ObjectPtr<tvm::ffi::Object> ptr)
      : tvm::ffi::ObjectRef(std::move(ptr)) {}

  /*! \brief The type key of the node, e.g. "prim.Add". */
  std::string type_key() const { return defined() ? get()->GetTypeKey() : "None"; }
  /*! \brief The view as T if the node is a T, else a null T. */
  template <typename T>
  T as() const {
    return T::IsInstance(*this) ? T(static_cast<const tvm::ffi::ObjectRef&>(*this)) : T();
  }
  /*! \brief The view as T; throws a TypeError naming both types when it is not a T. */
  template <typename T>
  T Downcast() const {
    if (!T::IsInstance(*this)) {
      TVM_FFI_THROW(TypeError) << "expected " << T::kTypeKey << " but got " << type_key();
    }
    return T(static_cast<const tvm::ffi::ObjectRef&>(*this));
  }
};

/*! \brief A read-only array of views: `for (Expr e : node.indices())`. */
template <typename T>
class List {
 public:
  List() = default;
  explicit List(tvm::ffi::Array<tvm::ffi::ObjectRef> data) : data_(std::move(data)) {}
  int64_t size() const { return data_.defined() ? static_cast<int64_t>(data_.size()) : 0; }
  bool empty() const { return size() == 0; }
  T operator[](int64_t i) const { return T(data_[i], Unchecked{}); }
  const tvm::ffi::Array<tvm::ffi::ObjectRef>& data() const { return data_; }
  bool same_as(const List& other) const { return data_.same_as(other.data_); }

  class iterator {
   public:
    iterator(const List* list, int64_t i) : list_(list), i_(i) {}
    T operator*() const { return (*list_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const List* list_;
    int64_t i_;
  };
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, size()); }

 private:
  tvm::ffi::Array<tvm::ffi::ObjectRef> data_;
};

/*! \brief Read a node field as view T (generated accessors use these). */
template <typename Tag, typename T>
inline T ReadNode(const tvm::ffi::ObjectRef& self) {
  const tvm::ffi::ObjectRef& value = ObjectField(self.get(), FieldBinding<Tag>::slot);
  if constexpr (std::is_base_of_v<NodeRef, T>) {
    return T(value, Unchecked{});  // BindSchema checked the field's declared type
  } else {                         // a tvm-ffi container such as Map<String, Any>
    return tvm::ffi::detail::ObjectUnsafe::ObjectRefFromObjectPtr<T>(
        tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromObjectRef<tvm::ffi::Object>(value));
  }
}

/*! \brief Read an Array field as List<T>. */
template <typename Tag, typename T>
inline List<T> ReadList(const tvm::ffi::ObjectRef& self) {
  const tvm::ffi::ObjectRef& value = ObjectField(self.get(), FieldBinding<Tag>::slot);
  return List<T>(tvm::ffi::Array<tvm::ffi::ObjectRef>(
      tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromObjectRef<tvm::ffi::Object>(value)));
}

/*! \brief Read a POD field (kInt32, kInt64, kBool, kFloat64, kDataType). */
template <typename Tag, typename T>
inline T ReadPod(const tvm::ffi::ObjectRef& self) {
  return PodField<T>(self.get(), FieldBinding<Tag>::slot);
}

/*! \brief Read a field through its getter (kGetter), converted to T. */
template <typename Tag, typename T>
inline T ReadAny(const tvm::ffi::ObjectRef& self) {
  if constexpr (std::is_same_v<T, tvm::ffi::Any>) {
    return GetterField(self.get(), FieldBinding<Tag>::slot);
  } else {
    return GetterField(self.get(), FieldBinding<Tag>::slot).template cast<T>();
  }
}

}  // namespace ir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_VIEW_H_
