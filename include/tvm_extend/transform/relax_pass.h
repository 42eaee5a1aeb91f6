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
 * What makes the passes is compiled once per build folder (tvm_extend/transform/relax_pass.cc, in
 * the static library of the binding code that tvm_extend_add_extension() links).
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

#include <functional>
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

/*! \brief A pass body as the pass factories below keep it (one conversion per registration, so
 *         that what makes the pass is compiled once per build folder, in relax_pass.cc). */
using UnitPassBody = std::function<tvm::ffi::ObjectRef(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef,
                                                       tvm::ffi::ObjectRef)>;
using ModulePassFunction =
    std::function<tvm::ffi::ObjectRef(tvm::ffi::ObjectRef, tvm::ffi::ObjectRef)>;

namespace relax_pass_detail {
/*! \brief A pass of `creator` (a `relax.transform.Make...Pass` global) around a body on one unit
 *         (a function or a dataflow block); `what` names the unit in errors. Defined in
 *         tvm_extend/transform/relax_pass.cc. */
tvm::ffi::ObjectRef MakeUnitPass(const std::string& name, const char* creator, const char* what,
                                 UnitPassBody body, int opt_level,
                                 tvm::ffi::Array<tvm::ffi::String> required);
/*! \brief A `transform.MakeModulePass` pass around `body`. */
tvm::ffi::ObjectRef MakeModulePass(const std::string& name, ModulePassFunction body, int opt_level,
                                   tvm::ffi::Array<tvm::ffi::String> required);
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
  return relax_pass_detail::MakeUnitPass(name, "relax.transform.MakeFunctionPass", "Relax function",
                                         UnitPassBody(std::move(body)), opt_level, required);
}

/*! \brief A new dataflow-block pass (`tvm.relax.transform.DataflowBlockPass`); as above, with a
 *         body (DataflowBlock, IRModule, PassContext) -> DataflowBlock. */
template <typename Body>
tvm::ffi::ObjectRef MakeDataflowBlockPass(std::string name, Body body, int opt_level,
                                          tvm::ffi::Array<tvm::ffi::String> required = {}) {
  return relax_pass_detail::MakeUnitPass(name, "relax.transform.MakeDataflowBlockPass",
                                         "dataflow-block", UnitPassBody(std::move(body)), opt_level,
                                         required);
}

/*! \brief A new module pass (`tvm.transform.ModulePass`); as above, with a body
 *         (IRModule, PassContext) -> IRModule. */
template <typename Body>
tvm::ffi::ObjectRef MakeModulePass(std::string name, Body body, int opt_level,
                                   tvm::ffi::Array<tvm::ffi::String> required = {}) {
  return relax_pass_detail::MakeModulePass(name, ModulePassFunction(std::move(body)), opt_level,
                                           required);
}

}  // namespace transform
}  // namespace tvm_extend
#endif  // TVM_EXTEND_TRANSFORM_RELAX_PASS_H_
