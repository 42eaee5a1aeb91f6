// A pass that throws at run time.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(throwing, "1.0.0");

namespace {
tvm::ffi::ObjectRef Explode(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
  TVM_FFI_THROW(ValueError) << "cannot handle this loop nest";
}
}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("throwing.transform.Explode", Explode, 0);
