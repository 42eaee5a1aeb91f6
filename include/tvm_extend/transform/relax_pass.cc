/*!
 * \file tvm_extend/transform/relax_pass.cc
 * \brief The Relax function, dataflow-block and module pass factories of relax_pass.h.
 *
 * Compiled once per build folder, into the static library that tvm_extend_add_extension() links
 * into every extension (with tvm_extend/ir/binding.cc), instead of in every translation unit
 * that registers a pass.
 */
#include <tvm_extend/transform/relax_pass.h>

#include <string>
#include <utility>

namespace tvm_extend {
namespace transform {
namespace relax_pass_detail {
namespace {

/*! \brief `result` checked to be of the input's type; else a TypeError naming the pass. */
tvm::ffi::ObjectRef CheckResult(const std::string& name, const char* what, int32_t expected_type,
                                tvm::ffi::ObjectRef result) {
  if (!result.defined() || result->type_index() != expected_type) {
    throw tvm::ffi::Error(error_kind::kType,
                          "pass " + name + " returned " +
                              (result.defined() ? result->GetTypeKey() : "None") + "; a " + what +
                              " pass must return what it was given",
                          "");
  }
  return result;
}

tvm::ffi::ObjectRef Create(const std::string& name, const char* creator, tvm::ffi::Function wrapped,
                           int opt_level, tvm::ffi::Array<tvm::ffi::String> required) {
  const std::string needed_by = "pass " + name;
  tvm::ffi::Function pass_info = abi::RequireGlobal("transform.PassInfo", needed_by);
  tvm::ffi::Function create = abi::RequireGlobal(creator, needed_by);
  tvm::ffi::ObjectRef info =
      pass_info(opt_level, tvm::ffi::String(name), required, false).cast<tvm::ffi::ObjectRef>();
  return create(wrapped, info).cast<tvm::ffi::ObjectRef>();
}

}  // namespace

tvm::ffi::ObjectRef MakeUnitPass(const std::string& name, const char* creator, const char* what,
                                 UnitPassBody body, int opt_level,
                                 tvm::ffi::Array<tvm::ffi::String> required) {
  tvm::ffi::Function wrapped = tvm::ffi::Function::FromTyped(
      // TVM hands the unit over as an rvalue reference: the body owns it, so a copy-on-write
      // rewrite may reuse what nobody else holds.
      [name, what, body = std::move(body)](tvm::ffi::RValueRef<tvm::ffi::ObjectRef> unit,
                                           tvm::ffi::ObjectRef mod,
                                           tvm::ffi::ObjectRef ctx) -> tvm::ffi::ObjectRef {
        tvm::ffi::ObjectRef owned = *std::move(unit);
        const int32_t expected_type = owned->type_index();
        tvm::ffi::ObjectRef result = Guarded("pass " + name + " failed: ", [&] {
          return body(std::move(owned), std::move(mod), std::move(ctx));
        });
        return CheckResult(name, what, expected_type, std::move(result));
      },
      name);
  return Create(name, creator, wrapped, opt_level, required);
}

tvm::ffi::ObjectRef MakeModulePass(const std::string& name, ModulePassFunction body, int opt_level,
                                   tvm::ffi::Array<tvm::ffi::String> required) {
  tvm::ffi::Function wrapped = tvm::ffi::Function::FromTyped(
      [name, body = std::move(body)](tvm::ffi::RValueRef<tvm::ffi::ObjectRef> mod,
                                     tvm::ffi::ObjectRef ctx) -> tvm::ffi::ObjectRef {
        tvm::ffi::ObjectRef owned = *std::move(mod);
        const int32_t expected_type = owned->type_index();
        tvm::ffi::ObjectRef result = Guarded(
            "pass " + name + " failed: ", [&] { return body(std::move(owned), std::move(ctx)); });
        return CheckResult(name, "module", expected_type, std::move(result));
      },
      name);
  return Create(name, "transform.MakeModulePass", wrapped, opt_level, required);
}

}  // namespace relax_pass_detail
}  // namespace transform
}  // namespace tvm_extend
