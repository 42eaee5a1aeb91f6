// A misbehaving extension: while the loader creates its functions, one factory registers a later
// name directly, so the loader's registration of that name fails midway and must roll back.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(racy, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("racy.a", One);
TVM_EXTEND_REGISTER_FUNC_FACTORY("racy.b", []() {
  tvm::ffi::Function::SetGlobal("racy.c", tvm::ffi::Function::FromTyped(One));
  return tvm::ffi::Function::FromTyped(One);
});
TVM_EXTEND_REGISTER_FUNC("racy.c", One);
