/*!
 * \file tvm_extend/backend/backend.h
 * \brief A code generator from an extension: TVM's `target.build.<kind>` for a target kind that
 *        TVM has no code generator for (ext_dev in TVM 0.27).
 *
 * \code
 * TVM_EXTEND_REGISTER_BACKEND("myext.sim", [] {
 *   return tvm_extend::backend::BackendSpec("a simulator for the X accelerator")
 *       .target_kind("ext_dev")            // the default
 *       .host_memory()                     // ext_dev tensors live in host memory
 *       .option("opt", "2", "optimisation level of the C compiler, 0 to 3")
 *       .build(Build);  // tvm::ffi::Module(ObjectRef mod, ObjectRef target, Map<String, String>)
 * });
 * \endcode
 *
 * A target picks the backend by name, and sets options as "key=value" strings in `libs` (the
 * only free-form attributes TVM 0.27 lets an ext_dev target carry):
 * `Target({"kind": "ext_dev", "model": "myext.sim", "libs": ["opt=3"], "host": "llvm"})`.
 *
 * The loader serves every backend of one kind through one `target.build.<kind>` function of
 * the tvm-extend core, so several extensions can serve ext_dev side by side; two with the same
 * name are refused, naming both. The dispatcher refuses a target without a model, an unknown
 * model and an unknown option with an error that lists what is known, and passes the backend
 * every option, defaults filled in. tvm_extend's Python package adds one pass to TVM's default
 * pipeline, before SplitHostDevice, that offloads the whole body of every function whose target
 * kind a backend serves, so the backend receives it as a kernel; the host calls the kernel
 * through the module the backend returns.
 *
 * A backend that generates C needs no code generator of its own: BuildCSource
 * (<tvm_extend/backend/c_source.h>) runs the backend's TIR passes on the kernels, has TVM's C
 * generator (`target.build.c`) write them, and compiles them with the system C compiler into a
 * cached module that export_library saves; LoadCModule (c_module.h) is its load_from_bytes.
 * A pass can give kernels counters (<tvm_extend/backend/counters.h>) that the module reads back:
 *
 * \code
 * tvm::ffi::Module Build(tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef, Options options) {
 *   std::string cc = std::string(options["cc"]) + " -O" + std::string(options["opt"]);
 *   return tvm_extend::backend::BuildCSource("myext.sim", mod, cc, "", {MyPass()});
 * }
 * // ... .load_from_bytes([](tvm::ffi::Bytes b) { return LoadCModule("myext.sim", b); })
 * \endcode
 */
#ifndef TVM_EXTEND_BACKEND_BACKEND_H_
#define TVM_EXTEND_BACKEND_BACKEND_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>

#include <string>
#include <utility>

namespace tvm_extend {
namespace backend {

/*! \brief The options a backend's build function receives: every declared one, with defaults. */
using Options = tvm::ffi::Map<tvm::ffi::String, tvm::ffi::String>;

/*! \brief What a backend is: the loader serves it as TVM's code generator for its kind. */
class BackendSpec {
 public:
  explicit BackendSpec(std::string description) : description_(std::move(description)) {}

  /*! \brief The target kind served; it must exist in TVM and have no code generator there. */
  BackendSpec& target_kind(std::string kind) {
    kind_ = std::move(kind);
    return *this;
  }
  /*!
   * \brief The kind's tensors live in host memory: tvm-extend makes `device_api.<kind>` the
   *        CPU's, so tvm.runtime.tensor(..., device=tvm.ext_dev()) works.
   */
  BackendSpec& host_memory(bool on = true) {
    host_memory_ = on;
    return *this;
  }
  /*! \brief An option the target may set in `libs` as "name=value". */
  BackendSpec& option(const std::string& name, const std::string& default_value,
                      const std::string& doc) {
    options_.push_back(tvm::ffi::Array<tvm::ffi::String>{name, default_value, doc});
    return *this;
  }
  /*! \brief The code generator: (IRModule, Target, Options) -> tvm::ffi::Module. */
  template <typename F>
  BackendSpec& build(F&& fn) {
    build_ = tvm::ffi::Function::FromTyped(std::forward<F>(fn));
    return *this;
  }

  /*!
   * \brief Deserialization of the backend's modules: (tvm::ffi::Bytes) -> tvm::ffi::Module. The
   *        modules' kind() must be the backend's name; tvm-extend registers this function as
   *        `ffi.Module.load_from_bytes.<name>`, so tvm.compile can link the module and
   *        export_library can save it (the module implements SaveToBytes and reports
   *        kBinarySerializable).
   */
  template <typename F>
  BackendSpec& load_from_bytes(F&& fn) {
    load_from_bytes_ = tvm::ffi::Function::FromTyped(std::forward<F>(fn));
    return *this;
  }

  /*! \brief The spec as the loader reads it. */
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> ToMap() const {
    return {{"description", tvm::ffi::String(description_)},
            {"target_kind", tvm::ffi::String(kind_)},
            {"host_memory", host_memory_},
            {"options", options_},
            {"build", build_},
            {"load_from_bytes", load_from_bytes_}};
  }

 private:
  std::string description_;
  std::string kind_ = "ext_dev";
  bool host_memory_ = false;
  tvm::ffi::Array<tvm::ffi::Array<tvm::ffi::String>> options_;
  tvm::ffi::Optional<tvm::ffi::Function> build_;
  tvm::ffi::Optional<tvm::ffi::Function> load_from_bytes_;
};

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_BACKEND_BACKEND_H_
