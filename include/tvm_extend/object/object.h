/*!
 * \file tvm_extend/object/object.h
 * \brief Object types of an extension: IR node types with reflected fields, registered by the
 *        loader after its checks, with a Python class made for them.
 *
 * \code
 * class TileLayoutObj : public tvm::ffi::Object {
 *  public:
 *   int64_t rows = 0;
 *   int64_t cols = 0;
 *   tvm::ffi::String order;
 *   // Structural equality and hashing compare the fields (as for TVM's IR nodes).
 *   static constexpr TVMFFISEqHashKind _type_s_eq_hash_kind = kTVMFFISEqHashKindTreeNode;
 *   TVM_FFI_DECLARE_OBJECT_INFO_FINAL("myext.TileLayout", TileLayoutObj, tvm::ffi::Object);
 * };
 *
 * TVM_EXTEND_REGISTER_OBJECT(TileLayoutObj, [] {
 *   return tvm_extend::object::ObjectSpec<TileLayoutObj>("a register tile")
 *       .field("rows", &TileLayoutObj::rows)
 *       .field("cols", &TileLayoutObj::cols)
 *       .field("order", &TileLayoutObj::order);
 * });
 * \endcode
 *
 * The type key must start with the extension's name. The loader refuses a key that TVM, a
 * library outside tvm-extend or another extension registered, before anything is registered,
 * naming both owners. Then it registers the type with tvm-ffi's reflection (`ObjectDef`), so its
 * fields are readable from Python and C++ by name, it prints with its fields, it is
 * constructed from Python with its fields in order (`myext.TileLayout(7, 32, "row")`), and
 * `tvm.ir.structural_equal` compares it field by field. Python gets a class for it without
 * hand-written Python: `ext.types["myext.TileLayout"]`, registered with
 * `tvm_ffi.register_object`. Another extension reads its fields without this one's headers
 * through views generated from the running type (`python -m tvm_extend.ir_views --type-key`).
 *
 * tvm-ffi cannot unregister a type: an extension's types outlive its unload. Loading the same
 * extension again (a reload, a load after unload) reuses a type whose layout did not change,
 * and refuses one whose layout did, naming both layouts.
 */
#ifndef TVM_EXTEND_OBJECT_OBJECT_H_
#define TVM_EXTEND_OBJECT_OBJECT_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/object.h>
#include <tvm/ffi/reflection/registry.h>
#include <tvm/ffi/string.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace object {

/*! \brief What an object type is: its fields, for the loader to check and then register. */
template <typename T>
class ObjectSpec {
 public:
  explicit ObjectSpec(std::string doc = "") : doc_(std::move(doc)) {}

  /*! \brief A read-only field, in constructor order. */
  template <typename F, typename Base>
  ObjectSpec& field(const char* name, F Base::*ptr, const char* doc = "") {
    static_assert(std::is_base_of_v<Base, T>, "the field must belong to the object type");
    const int64_t offset = tvm::ffi::reflection::GetFieldByteOffsetToObject<Base, F>(ptr);
    layout_.push_back(tvm::ffi::String(std::string(name) + ": " +
                                       tvm::ffi::TypeTraits<F>::TypeStr() + " @" +
                                       std::to_string(offset)));
    apply_.push_back(
        [name, ptr, doc](tvm::ffi::reflection::ObjectDef<T>& def) { def.def_ro(name, ptr, doc); });
    return *this;
  }

  /*!
   * \brief The spec as the loader reads it: the type key, the layout it compares on reload
   *        (size, and each field's name, type and offset), and the function that registers.
   */
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> ToMap() const {
    tvm::ffi::Array<tvm::ffi::String> layout = layout_;
    layout.insert(layout.begin(), tvm::ffi::String("size " + std::to_string(sizeof(T)) +
                                                   ", depth " + std::to_string(T::_type_depth)));
    auto apply = apply_;
    return {{"type_key", tvm::ffi::String(T::_type_key)},
            {"doc", tvm::ffi::String(doc_)},
            {"layout", layout},
            {"register", tvm::ffi::Function::FromTyped([apply]() {
               tvm::ffi::reflection::ObjectDef<T> def;
               for (const auto& f : apply) f(def);
             })}};
  }

 private:
  std::string doc_;
  tvm::ffi::Array<tvm::ffi::String> layout_;
  std::vector<std::function<void(tvm::ffi::reflection::ObjectDef<T>&)>> apply_;
};

}  // namespace object
}  // namespace tvm_extend
#endif  // TVM_EXTEND_OBJECT_OBJECT_H_
