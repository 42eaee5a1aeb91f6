// A tvm-extend extension whose own static initializer also registers a global name, unchecked
// (the seed's TVM_FFI_STATIC_INIT_BLOCK). The loader undoes it and refuses the library.
#include <tvm/ffi/reflection/registry.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(stray_static, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("stray_static.checked", One);

TVM_FFI_STATIC_INIT_BLOCK() {
  tvm::ffi::reflection::GlobalDef().def("stray_static.unchecked", [](int64_t x) { return x; });
}
