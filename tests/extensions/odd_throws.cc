// User code that throws something that is not a std::exception, at load and at pass run time.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(odd_throws, "1.0.0");

namespace {
tvm::ffi::ObjectRef ThrowsInt(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
  throw 42;
}
tvm::ffi::ObjectRef ReturnsModule(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef mod,
                                  tvm::ffi::ObjectRef) {
  return mod;
}
}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("odd_throws.transform.ThrowsInt", ThrowsInt, 0);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("odd_throws.transform.ReturnsModule", ReturnsModule, 0);
