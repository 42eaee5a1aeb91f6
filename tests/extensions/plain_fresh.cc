// NOT a tvm-extend extension: a plain library that registers a fresh name from a static
// initializer. It must be refused without being mapped, so its code never sits in TVM's table.
#include <tvm/ffi/reflection/registry.h>

#include <cstdint>

TVM_FFI_STATIC_INIT_BLOCK() {
  tvm::ffi::reflection::GlobalDef().def("plain_fresh.f", [](int64_t x) { return x + 1; });
}
