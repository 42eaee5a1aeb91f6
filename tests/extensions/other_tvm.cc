// Stamped by CMake as built against TVM 0.26.0 (TVM_EXTEND_OVERRIDE_TVM_VERSION).
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(other_tvm, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("other_tvm.f", One);
