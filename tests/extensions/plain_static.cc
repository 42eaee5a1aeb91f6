// NOT a tvm-extend extension: the seed's way, a registration in a static initializer that claims
// one of TVM's names. Loading it shows what tvm-extend prevents (see test_plain_registration_*).
#include <tvm/ffi/reflection/registry.h>

#include <cstdint>

TVM_FFI_STATIC_INIT_BLOCK() {
  tvm::ffi::reflection::GlobalDef().def("tirx.transform.StmtSimplify", [](int64_t x) { return x; });
}
