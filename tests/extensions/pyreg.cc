// Claims a name that the test registers from Python first.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(pyreg, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("pyreg.taken", One);
