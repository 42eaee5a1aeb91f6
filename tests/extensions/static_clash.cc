// A tvm-extend extension whose static initializer claims one of TVM's names: in the process it
// would abort while being mapped. The loader's probe process takes the abort instead.
#include <tvm/ffi/reflection/registry.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(static_clash, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("static_clash.f", One);

TVM_FFI_STATIC_INIT_BLOCK() {
  tvm::ffi::reflection::GlobalDef().def("tirx.transform.StmtSimplify", [](int64_t x) { return x; });
}
