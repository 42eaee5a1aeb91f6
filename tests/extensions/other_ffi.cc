// Stamped by CMake as built against tvm-ffi C ABI 0.1.99 (TVM_EXTEND_OVERRIDE_FFI_ABI_VERSION).
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(other_ffi, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("other_ffi.f", One);
