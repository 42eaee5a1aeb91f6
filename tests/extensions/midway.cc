// Registration that fails midway: the third factory throws, so none of the four may register.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(midway, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("midway.a", One);
TVM_EXTEND_REGISTER_FUNC("midway.b", One);
TVM_EXTEND_REGISTER_FUNC_FACTORY("midway.c", []() -> tvm::ffi::Function {
  TVM_FFI_THROW(RuntimeError) << "midway.c cannot be created: its backend is missing";
});
TVM_EXTEND_REGISTER_FUNC("midway.d", One);
