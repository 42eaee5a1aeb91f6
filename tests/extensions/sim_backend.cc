// A second ext_dev backend beside project_b's: the dispatcher picks by the target's model. Its
// build reports what it was given instead of generating code, and a "bad" model returns a
// non-module.
#include <tvm_extend/backend/backend.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>

TVM_EXTEND_EXTENSION(sim_backend, "1.0.0");

TVM_EXTEND_REGISTER_BACKEND("sim_backend.interp", [] {
  return tvm_extend::backend::BackendSpec("a simulator that is not written yet")
      .host_memory()
      .option("mode", "fast", "fast or exact")
      .build([](tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef,
                tvm_extend::backend::Options options) -> tvm::ffi::Module {
        std::string names;
        for (const auto& [gv, f] : tvm_extend::tir::IRModule(mod).functions()) {
          names +=
              std::string(tvm_extend::tir::GlobalVar(gv.cast<tvm::ffi::ObjectRef>()).name_hint());
        }
        throw tvm::ffi::Error(
            "NotImplementedError",
            "sim_backend was asked to build " + names + " in mode " + std::string(options["mode"]),
            "");
      });
});
TVM_EXTEND_REGISTER_BACKEND("sim_backend.broken", [] {
  return tvm_extend::backend::BackendSpec("returns no module")
      .build([](tvm::ffi::ObjectRef, tvm::ffi::ObjectRef, tvm_extend::backend::Options) {
        return tvm::ffi::String("not a module");
      });
});
