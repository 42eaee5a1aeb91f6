// A backend for a target kind TVM already builds (BACKEND_KIND=llvm), or one TVM does not know.
#include <tvm_extend/backend/backend.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(BACKEND_EXT, "1.0.0");

TVM_EXTEND_REGISTER_BACKEND(BACKEND_EXT_NAME ".gen", [] {
  return tvm_extend::backend::BackendSpec("refused")
      .target_kind(BACKEND_KIND)
      .build([](tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef, tvm_extend::backend::Options) {
        return mod;  // never called: the loader refuses the backend
      });
});
