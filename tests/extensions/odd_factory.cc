// A factory that throws an int while the loader creates the functions.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(odd_factory, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("odd_factory.a", One);
TVM_EXTEND_REGISTER_FUNC_FACTORY("odd_factory.b", []() -> tvm::ffi::Function { throw 42; });
