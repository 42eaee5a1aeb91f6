// Reads objects.Tile's fields through views generated from the running type (no header of the
// objects extension), checked against the running type when this extension loads.
#include <objects/views.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(tile_reader, "1.0.0");

namespace {
int64_t Perimeter(tvm::ffi::ObjectRef obj) {
  auto tile = tvm_extend::ir::NodeRef(obj).Downcast<objects::views::Tile>();
  return 2 * (tile.rows() + tile.cols());
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("tile_reader.perimeter", Perimeter);
