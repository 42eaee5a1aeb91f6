// Built twice, as libdup_one.so and libdup_two.so: the same extension from two files.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(dup, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("dup.f", One);
