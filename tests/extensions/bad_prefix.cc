// Registers a name outside its own prefix.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(bad_prefix, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("bad_prefix.fine", One);
TVM_EXTEND_REGISTER_FUNC("somebody_else.name", One);
