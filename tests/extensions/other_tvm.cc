// Stamped by CMake as built against TVM 0.25.0, a release of another IR model (other_tvm), or
// 0.26.0, another supported release (other_release) (TVM_EXTEND_OVERRIDE_TVM_VERSION).
#include <tvm_extend/extension.h>

#ifndef OTHER_EXT
#define OTHER_EXT other_tvm
#define OTHER_EXT_NAME "other_tvm"
#endif

TVM_EXTEND_EXTENSION(OTHER_EXT, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC(OTHER_EXT_NAME ".f", One);
