// Extension code that calls the loader while it is being loaded. Built twice: reenter_list lists
// the loaded extensions from its factory (answered), reenter_load tries to load a library from
// its factory (refused with an error, never a deadlock).
#include <tvm/ffi/container/array.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(REENTER_EXT, "1.0.0");

namespace {
int64_t seen_during_load = -1;
int64_t Seen() { return seen_during_load; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC_FACTORY(REENTER_EXT_NAME ".seen", []() {
  tvm::ffi::Function list = tvm::ffi::Function::GetGlobalRequired("tvm_extend.ListExtensions");
  seen_during_load = list().cast<tvm::ffi::Array<tvm::ffi::Any>>().size();
#ifdef REENTER_LOAD
  tvm::ffi::Function load = tvm::ffi::Function::GetGlobalRequired("tvm_extend.LoadExtension");
  load(tvm::ffi::String(REENTER_LOAD));
#endif
  return tvm::ffi::Function::FromTyped(Seen);
});
