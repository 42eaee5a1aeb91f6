/*!
 * \file tvm_extend/transform/relax_pass.h
 * \brief Relax function passes, dataflow-block passes and module passes from C++ functions,
 *        through TVM's registered constructors.
 *
 * No TVM compiler header is needed: the passes are made by calling the running TVM's
 * `transform.PassInfo`, `relax.transform.MakeFunctionPass`,
 * `relax.transform.MakeDataflowBlockPass` and `transform.MakeModulePass` global functions. The
 * results are real `tvm.transform.Pass` objects (`relax.FunctionPass`, ...): they run in
 * `tvm.transform.Sequential`, under instruments and timing, and in TVM's Relax pipelines
 * (tvm_extend.pipeline). Register them with TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS,
 * TVM_EXTEND_REGISTER_DATAFLOW_BLOCK_PASS and TVM_EXTEND_REGISTER_MODULE_PASS
 * (tvm_extend/extension/registry.h).
 *
 * Bodies take and return tvm::ffi::ObjectRef; view them with the generated
 * <tvm_extend/ir/relax.h> (`relax::Function f(func);`). Whatever a body throws comes out as an
 * error that starts "pass <name> failed: "; a body that returns something other than what it
 * was given (a Function for a Function, ...) is a TypeError naming the pass.
 */
#ifndef TVM_EXTEND_TRANSFORM_RELAX_PASS_H_
#define TVM_EXTEND_TRANSFORM_RELAX_PASS_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/object.h>
#include <tvm/ffi/rvalue_ref.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/abi/global.h>
#include <tvm_extend/extension/errors.h>

#include <string>
#include <utility>

namespace tvm_extend {
namespace transform {

/*! \brief The body of a Relax function pass: (relax Function, IRModule, PassContext) ->
 *         relax Function. TVM runs it on every Relax function of the module. */
using RelaxFunctionPassBody = tvm::ffi::ObjectRef (*)(tvm::ffi::ObjectRef func,
                                                      tvm::ffi::ObjectRef mod,
                                                      tvm::ffi::ObjectRef pass_context);
/*! \brief The body of a dataflow-block pass: (DataflowBlock, IRModule, PassContext) ->
 *         DataflowBlock. TVM runs it on every dataflow block of every Relax function. */
using DataflowBlockPassBody = RelaxFunctionPassBody;
/*! \brief The body of a module pass: (IRModule, PassContext) -> IRModule. */
using ModulePassBody = tvm::ffi::ObjectRef (*)(tvm::ffi::ObjectRef mod,
                                               tvm::ffi::ObjectRef pass_context);

namespace relax_pass_detail {

/*! \brief `result` checked to be of `input`'s type; else a TypeError naming the pass. */
inline tvm::ffi::ObjectRef CheckResult(const std::string& name, const char* what,
                                       int32_t expected_type, tvm::ffi::ObjectRef result) {
  if (!result.defined() || result->type_index() != expected_type) {
    throw tvm::ffi::Error(error_kind::kType,
                          "pass " + name + " returned " +
                              (result.defined() ? result->GetTypeKey() : "None") + "; a " + what +
                              " pass must return what it was given",
                          "");
  }
  return result;
}

/*! \brief A pass of `creator` (a `Make...Pass` global) around a three-argument body. */
template <typename Body>
tvm::ffi::ObjectRef MakeUnitPass(const std::string& name, const char* creator, const char* what,
                                 Body body, int opt_level,
                                 tvm::ffi::Array<tvm::ffi::String> required) {
  const std::string needed_by = "pass " + name;
  tvm::ffi::Function pass_info = abi::RequireGlobal("transform.PassInfo", needed_by);
  tvm::ffi::Function create = abi::RequireGlobal(creator, needed_by);
  tvm::ffi::Function wrapped = tvm::ffi::Function::FromTyped(
      // TVM hands the unit over as an rvalue reference: the body owns it, so a copy-on-write
      // rewrite may reuse what nobody else holds.
      [name, what, body](tvm::ffi::RValueRef<tvm::ffi::ObjectRef> unit, tvm::ffi::ObjectRef mod,
                         tvm::ffi::ObjectRef ctx) -> tvm::ffi::ObjectRef {
        tvm::ffi::ObjectRef owned = *std::move(unit);
        const int32_t expected_type = owned->type_index();
        tvm::ffi::ObjectRef result = Guarded("pass " + name + " failed: ", [&] {
          return body(std::move(owned), std::move(mod), std::move(ctx));
        });
        return CheckResult(name, what, expected_type, std::move(result));
      },
      name);
  tvm::ffi::ObjectRef info =
      pass_info(opt_level, tvm::ffi::String(name), required, false).cast<tvm::ffi::ObjectRef>();
  return create(wrapped, info).cast<tvm::ffi::ObjectRef>();
}

}  // namespace relax_pass_detail

/*!
 * \brief A new Relax function pass (`tvm.relax.transform.FunctionPass` in Python).
 * \param name The pass name shown by instruments, timing, errors and pipeline listings.
 * \param body (Function, IRModule, PassContext) -> Function; see RelaxFunctionPassBody.
 * \param opt_level The pass's opt_level, as in tvm.transform.PassInfo.
 * \param required Names of passes TVM must run first.
 */
template <typename Body>
tvm::ffi::ObjectRef MakeRelaxFunctionPass(std::string name, Body body, int opt_level,
                                          tvm::ffi::Array<tvm::ffi::String> required = {}) {
  return relax_pass_detail::MakeUnitPass(name, "relax.transform.MakeFunctionPass",
                                         "Relax function", std::move(body), opt_level, required);
}

/*! \brief A new dataflow-block pass (`tvm.relax.transform.DataflowBlockPass`); as above, with a
 *         body (DataflowBlock, IRModule, PassContext) -> DataflowBlock. */
template <typename Body>
tvm::ffi::ObjectRef MakeDataflowBlockPass(std::string name, Body body, int opt_level,
                                          tvm::ffi::Array<tvm::ffi::String> required = {}) {
  return relax_pass_detail::MakeUnitPass(name, "relax.transform.MakeDataflowBlockPass",
                                         "dataflow-block", std::move(body), opt_level, required);
}

/*! \brief A new module pass (`tvm.transform.ModulePass`); as above, with a body
 *         (IRModule, PassContext) -> IRModule. */
template <typename Body>
tvm::ffi::ObjectRef MakeModulePass(std::string name, Body body, int opt_level,
                                   tvm::ffi::Array<tvm::ffi::String> required = {}) {
  const std::string needed_by = "pass " + name;
  tvm::ffi::Function pass_info = abi::RequireGlobal("transform.PassInfo", needed_by);
  tvm::ffi::Function create = abi::RequireGlobal("transform.MakeModulePass", needed_by);
  tvm::ffi::Function wrapped = tvm::ffi::Function::FromTyped(
      [name, body](tvm::ffi::RValueRef<tvm::ffi::ObjectRef> mod,
                   tvm::ffi::ObjectRef ctx) -> tvm::ffi::ObjectRef {
        tvm::ffi::ObjectRef owned = *std::move(mod);
        const int32_t expected_type = owned->type_index();
        tvm::ffi::ObjectRef result = Guarded("pass " + name + " failed: ", [&] {
          return body(std::move(owned), std::move(ctx));
        });
        return relax_pass_detail::CheckResult(name, "module", expected_type, std::move(result));
      },
      name);
  tvm::ffi::ObjectRef info =
      pass_info(opt_level, tvm::ffi::String(name), required, false).cast<tvm::ffi::ObjectRef>();
  return create(wrapped, info).cast<tvm::ffi::ObjectRef>();
}

}  // namespace transform
}  // namespace tvm_extend
#endif  // TVM_EXTEND_TRANSFORM_RELAX_PASS_H_
