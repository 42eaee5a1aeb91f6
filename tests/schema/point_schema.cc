// Test-only: registers the node type "tvm_extend_testing.Point" in one of three layouts, to
// show that compiled views follow moved fields and refuse changed ones. Built three times with
// POINT_LAYOUT = 1 (x, y), 2 (reordered and extended: label, weight, y, x), 3 (y is a string).
#include <tvm/ffi/function.h>
#include <tvm/ffi/object.h>
#include <tvm/ffi/reflection/registry.h>
#include <tvm/ffi/string.h>

#include <cstdint>

namespace {
namespace refl = tvm::ffi::reflection;

class PointObj : public tvm::ffi::Object {
 public:
#if POINT_LAYOUT == 1
  int64_t x = 0;
  int64_t y = 0;
#elif POINT_LAYOUT == 2
  tvm::ffi::String label;
  double weight = 0.5;
  int64_t y = 0;
  int64_t x = 0;
#else
  int64_t x = 0;
  tvm::ffi::String y;
#endif
  TVM_FFI_DECLARE_OBJECT_INFO_FINAL("tvm_extend_testing.Point", PointObj, tvm::ffi::Object);
};

TVM_FFI_STATIC_INIT_BLOCK() {
  auto def = refl::ObjectDef<PointObj>();
#if POINT_LAYOUT == 2
  def.def_ro("label", &PointObj::label).def_ro("weight", &PointObj::weight);
  def.def_ro("y", &PointObj::y).def_ro("x", &PointObj::x);
#else
  def.def_ro("x", &PointObj::x).def_ro("y", &PointObj::y);
#endif
  refl::GlobalDef().def("tvm_extend_testing.MakePoint", [](int64_t x, int64_t y) {
    auto p = tvm::ffi::make_object<PointObj>();
    p->x = x;
#if POINT_LAYOUT == 3
    p->y = std::to_string(y);
#else
    p->y = y;
#endif
    return tvm::ffi::ObjectRef(p);
  });
}
}  // namespace
