// User code that throws something that is not a std::exception, at load and at pass run time.
#include <tvm_extend/extension.h>

#include <stdexcept>
#include <string>

TVM_EXTEND_EXTENSION(odd_throws, "1.0.0");

namespace {
tvm::ffi::ObjectRef ThrowsInt(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
  throw 42;
}
tvm::ffi::ObjectRef ReturnsModule(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef mod,
                                  tvm::ffi::ObjectRef) {
  return mod;
}
}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("odd_throws.transform.ThrowsInt", ThrowsInt, 0);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("odd_throws.transform.ReturnsModule", ReturnsModule, 0);

// Registered functions are guarded like passes: whatever they throw comes back as an error that
// names the function.
namespace {
int64_t FunctionThrowsInt(int64_t) { throw 42; }
int64_t FunctionThrowsStd(int64_t x) {
  throw std::out_of_range("index " + std::to_string(x) + " is out of range");
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("odd_throws.throw_int", FunctionThrowsInt);
TVM_EXTEND_REGISTER_FUNC("odd_throws.throw_std", FunctionThrowsStd);
