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
#include <tvm_extend/ir/renames.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
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

/*!
 * \brief A node type the extension uses, with its runtime type index once bound.
 *
 * Constant-initialized (a slot exists before any static initializer runs); a use registers it.
 */
struct TypeSlot {
  const char* type_key;
  /*! \brief The parent type the generator saw ("" when not checked). */
  const char* parent_key;
  /*! \brief Every field the generator saw on the type and its ancestors, comma-separated, for
   *         types the functors dispatch on; nullptr otherwise. */
  const char* known_fields;
  int32_t type_index = -1;
  int32_t type_depth = -1;
  /*! \brief The key the running TVM has the type under (type_key or a known other name). */
  const char* bound_key = nullptr;
  /*! \brief Used only by the functors, and the running TVM has no such type: never met. */
  bool absent = false;
  /*! \brief The functors walk this type's children by reflection: the running TVM's type has
   *         fields the generated code does not know, or ones it knows with another schema. */
  bool generic = false;
  constexpr TypeSlot(const char* key, const char* parent, const char* fields)
      : type_key(key), parent_key(parent), known_fields(fields) {}
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
  /*! \brief An integer the running TVM stores otherwise than the extension was built for
   *         (`int` in 8 bytes or `ffi.BigInt`): read through the field's getter, never written. */
  bool via_getter = false;
  constexpr FieldSlot(const char* key, const char* field, const char* schema, FieldKind k,
                      int64_t sz)
      : type_key(key), name(field), type_schema(schema), kind(k), size(sz) {}
};

/*!
 * \brief One use of a slot. A *strong* use is code the extension wrote (an accessor, `Make`,
 *        `as<T>()`): it must bind, or the load is refused. A *weak* use is the generated
 *        functors' dispatch and child walk: a type the running TVM does not have is never met,
 *        and one whose fields differ is walked by reflection instead.
 */
struct SlotUse {
  void* slot;
  bool strong;
};
inline std::vector<SlotUse>& TypeUses() {
  static std::vector<SlotUse> uses;
  return uses;
}
inline std::vector<SlotUse>& FieldUses() {
  static std::vector<SlotUse> uses;
  return uses;
}
inline bool RegisterUse(std::vector<SlotUse>& uses, void* slot, bool strong) {
  uses.push_back(SlotUse{slot, strong});
  return true;
}

/*! \brief The slot of a type tag: `struct Tag { kTypeKey; kParentKey; kKnownFields; }`. */
template <typename Tag>
struct TypeBinding {
  static TypeSlot slot;
};
template <typename Tag>
TypeSlot TypeBinding<Tag>::slot{Tag::kTypeKey, Tag::kParentKey, Tag::kKnownFields};

/*! \brief The slot of a field tag (kTypeKey, kName, kSchema, kKind, kSize). */
template <typename Tag>
struct FieldBinding {
  static FieldSlot slot;
};
template <typename Tag>
FieldSlot FieldBinding<Tag>::slot{Tag::kTypeKey, Tag::kName, Tag::kSchema, Tag::kKind, Tag::kSize};

/*! \brief Registers one use of a tag's slot; instantiated only where a template names it. */
template <typename Tag, bool kStrong>
struct TypeUse {
  static const bool registered;
};
template <typename Tag, bool kStrong>
const bool TypeUse<Tag, kStrong>::registered =
    RegisterUse(TypeUses(), &TypeBinding<Tag>::slot, kStrong);
template <typename Tag, bool kStrong>
struct FieldUse {
  static const bool registered;
};
template <typename Tag, bool kStrong>
const bool FieldUse<Tag, kStrong>::registered =
    RegisterUse(FieldUses(), &FieldBinding<Tag>::slot, kStrong);

/*! \brief The slot of a type the code uses: strong for the extension's code, weak for the
 *         functors. */
template <typename Tag, bool kStrong = true>
inline const TypeSlot& UseType() {
  (void)&TypeUse<Tag, kStrong>::registered;
  return TypeBinding<Tag>::slot;
}
template <typename Tag, bool kStrong = true>
inline const FieldSlot& UseField() {
  (void)&FieldUse<Tag, kStrong>::registered;
  return FieldBinding<Tag>::slot;
}

/*! \brief The running TVM's version, for messages; "(unknown)" when unknown. */
std::string RunningTVMVersionForMessages();

/*! \brief Throws a SchemaError: the running TVM does not match what the extension uses. */
[[noreturn]] void SchemaError(const std::string& what);

inline std::string_view AsView(const TVMFFIByteArray& b) { return {b.data, b.size}; }

/*! \brief `key` under the name of the newest supported release (tvm_extend/ir/renames.h). */
std::string_view CanonicalName(std::string_view key);
/*! \brief A JSON schema with every type name in it written as CanonicalName does. */
std::string CanonicalSchema(std::string_view schema);
/*! \brief The running type under `type_key`, or nullptr. */
const TVMFFITypeInfo* LookupType(std::string_view type_key, int32_t* index);
/*! \brief The type under `type_key` or a known other name of it; `bound` gets the name found. */
const TVMFFITypeInfo* LookupTypeByConcept(std::string_view type_key, int32_t* index,
                                          std::string_view* bound = nullptr);
/*! \brief The `type_schema` of a field, as found in its JSON metadata. */
std::string FieldSchema(const TVMFFIFieldInfo& f);
/*! \brief A field of the type or of one of its ancestors, by name; nullptr when none. */
const TVMFFIFieldInfo* FindField(const TVMFFITypeInfo* info, std::string_view name);
/*! \brief Whether the running type `info` is `ancestor` or derives from it. */
bool DerivesFrom(const TVMFFITypeInfo* info, int32_t ancestor);

/*!
 * \brief Resolve every used type, field and global function against the running TVM.
 *        Idempotent (a slot bound before stays bound). Defined in tvm_extend/ir/binding.cc,
 *        which tvm_extend_add_extension() compiles once per build folder.
 * \throws tvm::ffi::Error of kind "SchemaError" listing every problem at once: the type, the
 *         field or function, what was expected, what was found, and the TVM version.
 */
void BindSchema();

/*! \brief What this library uses of TVM's IR, as JSON (see TVMExtendUsedSchema). */
std::string UsedSchemaJson();

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
  if (TVM_FFI_PREDICT_FALSE(slot.type_depth < 0)) {
    if (slot.absent) return false;  // the running TVM has no such type
    UnboundError(slot.type_key);
  }
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

/*! \brief Write an object field of a node nobody else holds yet (a fresh copy). */
inline void SetObjectField(tvm::ffi::Object* fresh, int64_t offset, tvm::ffi::ObjectRef v) {
  *reinterpret_cast<tvm::ffi::ObjectRef*>(reinterpret_cast<char*>(fresh) + offset) = std::move(v);
}
inline void SetObjectField(tvm::ffi::Object* fresh, const FieldSlot& slot, tvm::ffi::ObjectRef v) {
  if (TVM_FFI_PREDICT_FALSE(slot.offset < 0)) UnboundError(slot.type_key);
  SetObjectField(fresh, slot.offset, std::move(v));
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

/*! \brief What a field holds for the functors: nothing to walk, expressions, statements, or a
 *         node holding them (a Range, an IterVar, a buffer region); maybe a list of them. */
struct ChildField {
  enum Kind : int8_t { kNone, kExpr, kStmt, kAux } kind = kNone;
  bool list = false;
};

/*!
 * \brief Walks the children of nodes by reflection, for types the generated functors do not
 *        know or that changed under them. The rule is the generator's: fields typed as an
 *        expression (but not a variable, which is a definition), a statement, a node holding
 *        them, or a list of these.
 */
class GenericChildren {
 public:
  using Callback = tvm::ffi::ObjectRef (*)(void* context, const tvm::ffi::ObjectRef& child);
  GenericChildren(const TypeSlot& expr, const TypeSlot& stmt, const TypeSlot& var)
      : expr_(expr), stmt_(stmt), var_(var) {}
  /*! \brief `node` with every child replaced by on_expr/on_stmt of it: the same node when no
   *         child changed, else a shallow copy. */
  tvm::ffi::ObjectRef Map(const tvm::ffi::ObjectRef& node, Callback on_expr, Callback on_stmt,
                          void* context) const;

 private:
  ChildField Classify(const TVMFFIFieldInfo& f) const;
  const TypeSlot& expr_;
  const TypeSlot& stmt_;
  const TypeSlot& var_;
};

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

/*! \brief `ref` as view T, checked against a weakly used type (the functors' results). */
template <typename T, typename Tag>
inline T CheckedWeak(const tvm::ffi::ObjectRef& ref) {
  if (ref.defined() && !IsInstance(ref.get(), UseType<Tag, false>())) {
    WrongType(T::kTypeKey, ref);
  }
  return T(ref, Unchecked{});
}

/*! \brief Read a node field as view T (generated accessors use these). */
template <typename Tag, typename T, bool kStrong = true>
inline T ReadNode(const tvm::ffi::ObjectRef& self) {
  const tvm::ffi::ObjectRef& value = ObjectField(self.get(), UseField<Tag, kStrong>());
  if constexpr (std::is_base_of_v<NodeRef, T>) {
    return T(value, Unchecked{});  // BindSchema checked the field's declared type
  } else {                         // a tvm-ffi container such as Map<String, Any>
    return tvm::ffi::detail::ObjectUnsafe::ObjectRefFromObjectPtr<T>(
        tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromObjectRef<tvm::ffi::Object>(value));
  }
}

/*! \brief Read an Array field as List<T>. */
template <typename Tag, typename T, bool kStrong = true>
inline List<T> ReadList(const tvm::ffi::ObjectRef& self) {
  const tvm::ffi::ObjectRef& value = ObjectField(self.get(), UseField<Tag, kStrong>());
  return List<T>(tvm::ffi::Array<tvm::ffi::ObjectRef>(
      tvm::ffi::detail::ObjectUnsafe::ObjectPtrFromObjectRef<tvm::ffi::Object>(value)));
}

/*! \brief Write a POD field of a node nobody else holds yet (a fresh copy). */
template <typename T>
inline void SetPodField(tvm::ffi::Object* fresh, const FieldSlot& slot, const T& value) {
  if (TVM_FFI_PREDICT_FALSE(slot.offset < 0)) UnboundError(slot.type_key);
  if (TVM_FFI_PREDICT_FALSE(slot.via_getter)) {
    TVM_FFI_THROW(TypeError) << "tvm-extend: cannot set `" << slot.type_key << "." << slot.name
                             << "` in place: the running TVM stores it otherwise than the "
                                "extension was built for; make a new node with Make()";
  }
  std::memcpy(reinterpret_cast<char*>(fresh) + slot.offset, &value, sizeof(T));
}

/*! \brief Read a POD field (kInt32, kInt64, kBool, kFloat64, kDataType). */
template <typename Tag, typename T, bool kStrong = true>
inline T ReadPod(const tvm::ffi::ObjectRef& self) {
  const FieldSlot& slot = UseField<Tag, kStrong>();
  if (TVM_FFI_PREDICT_FALSE(slot.via_getter)) return GetterField(self.get(), slot).cast<T>();
  return PodField<T>(self.get(), slot);
}

/*! \brief Read a field through its getter (kGetter), converted to T. */
template <typename Tag, typename T, bool kStrong = true>
inline T ReadAny(const tvm::ffi::ObjectRef& self) {
  if constexpr (std::is_same_v<T, tvm::ffi::Any>) {
    return GetterField(self.get(), UseField<Tag, kStrong>());
  } else {
    return GetterField(self.get(), UseField<Tag, kStrong>()).template cast<T>();
  }
}

}  // namespace ir
}  // namespace tvm_extend

#endif  // TVM_EXTEND_IR_VIEW_H_
