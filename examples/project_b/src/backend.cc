/*!
 * \file backend.cc
 * \brief project_b.counting_c: an ext_dev backend that generates C with a load and a store
 *        counter per buffer, compiles it with the system C compiler, and returns a runnable
 *        module whose counters a profiler reads (project_b.profile in Python).
 *
 * Built on the kit's C emitter and C module (<tvm_extend/backend/c_emitter.h>, c_module.h):
 * this file adds the counters and the options.
 * Options (in the target's libs, "name=value"): counters=on|off, opt=0..3, cc=<compiler>,
 * cache=<folder for the generated source and library>.
 */
#include <tvm_extend/backend/backend.h>
#include <tvm_extend/backend/c_emitter.h>
#include <tvm_extend/backend/c_module.h>
#include <tvm_extend/extension.h>

#include <string>
#include <vector>

namespace project_b {
namespace {
using tvm_extend::backend::CEmitter;
using tvm_extend::backend::CKernel;

constexpr const char* kName = "project_b.counting_c";

// Counters "<buffer>.loads" and "<buffer>.stores" around every access.
class CountingEmitter : public CEmitter {
 public:
  using CEmitter::CEmitter;

 protected:
  std::string Load(const Var& buffer, const std::string& element) override {
    return "(++tvmx_counters[" + Slot(buffer, "loads") + "], " + element + ")";
  }
  void BeforeStore(const Var& buffer) override {
    Line("++tvmx_counters[" + Slot(buffer, "stores") + "];");
  }

 private:
  std::string Slot(const Var& buffer, const char* what) {
    // Both counters of a buffer exist as soon as one is used, loads first.
    int loads = Counter(std::string(buffer.name()) + ".loads");
    int stores = Counter(std::string(buffer.name()) + ".stores");
    return std::to_string(std::string(what) == "loads" ? loads : stores);
  }
};

tvm::ffi::Module Build(tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef,
                       tvm_extend::backend::Options options) {
  const std::string counters = options["counters"];
  if (counters != "on" && counters != "off") {
    throw tvm::ffi::Error("ValueError", "option counters=" + counters + ": give on or off", "");
  }
  const std::string opt = options["opt"];
  if (opt.size() != 1 || opt[0] < '0' || opt[0] > '3') {
    throw tvm::ffi::Error("ValueError", "option opt=" + opt + ": give 0, 1, 2 or 3", "");
  }
  std::vector<CKernel> kernels;
  const std::string source = counters == "on"
                                 ? tvm_extend::backend::EmitC<CountingEmitter>(mod, &kernels)
                                 : tvm_extend::backend::EmitC<CEmitter>(mod, &kernels);
  const std::string command = std::string(options["cc"]) + " -O" + opt +
                              " -std=gnu11 -Werror=implicit-function-declaration "
                              "-Werror=int-conversion -Wno-unused";
  return tvm_extend::backend::BuildCModule(kName, source, std::move(kernels), command,
                                           options["cache"]);
}

}  // namespace
}  // namespace project_b

TVM_EXTEND_REGISTER_BACKEND("project_b.counting_c", [] {
  return tvm_extend::backend::BackendSpec(
             "C with a load and a store counter per buffer, compiled by the system C compiler")
      .target_kind("ext_dev")
      .host_memory()
      .option("counters", "on", "count loads and stores per buffer: on or off")
      .option("opt", "2", "optimisation level of the C compiler: 0 to 3")
      .option("cc", "cc", "the C compiler")
      .option("cache", "", "folder for the generated source and library (default: the user cache)")
      .build(project_b::Build)
      .load_from_bytes([](tvm::ffi::Bytes bytes) {
        return tvm_extend::backend::LoadCModule(project_b::kName, bytes);
      });
});
