// Object types from an extension: a tile layout with reflected fields, made and read from C++.
#include <tvm_extend/extension.h>
#include <tvm_extend/object/object.h>

#include <cstdint>

TVM_EXTEND_EXTENSION(objects, "1.0.0");

namespace {

class TileObj : public tvm::ffi::Object {
 public:
  int64_t rows = 0;
  int64_t cols = 0;
  tvm::ffi::String order;
#ifdef OBJECTS_CHANGED_LAYOUT
  double weight = 1.0;
#endif
  TileObj() = default;
  TileObj(int64_t r, int64_t c, tvm::ffi::String o) : rows(r), cols(c), order(std::move(o)) {}
  static constexpr TVMFFISEqHashKind _type_s_eq_hash_kind = kTVMFFISEqHashKindTreeNode;
  TVM_FFI_DECLARE_OBJECT_INFO_FINAL("objects.Tile", TileObj, tvm::ffi::Object);
};

tvm::ffi::ObjectRef MakeTile(int64_t rows, int64_t cols, tvm::ffi::String order) {
  return tvm::ffi::ObjectRef(tvm::ffi::make_object<TileObj>(rows, cols, order));
}

int64_t Area(tvm::ffi::ObjectRef tile) {
  const auto* t = tile.as<TileObj>();
  if (t == nullptr) {
    TVM_FFI_THROW(TypeError) << "objects.area takes an objects.Tile, not " << tile->GetTypeKey();
  }
  return t->rows * t->cols;
}

}  // namespace

TVM_EXTEND_REGISTER_OBJECT(TileObj, [] {
  auto spec = tvm_extend::object::ObjectSpec<TileObj>("a register tile")
                  .field("rows", &TileObj::rows)
                  .field("cols", &TileObj::cols)
                  .field("order", &TileObj::order);
#ifdef OBJECTS_CHANGED_LAYOUT
  spec.field("weight", &TileObj::weight);
#endif
  return spec;
});
TVM_EXTEND_REGISTER_FUNC("objects.make_tile", MakeTile);
TVM_EXTEND_REGISTER_FUNC("objects.area", Area);
