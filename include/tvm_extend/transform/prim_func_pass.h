/*!
 * \file tvm_extend/transform/prim_func_pass.h
 * \brief Make a tirx PrimFuncPass from a C++ function, through TVM's registered constructors.
 *
 * No TVM compiler header is needed: the pass is built by calling the running TVM's
 * `transform.PassInfo` and `tirx.transform.CreatePrimFuncPass` global functions.
 */
#ifndef TVM_EXTEND_TRANSFORM_PRIM_FUNC_PASS_H_
#define TVM_EXTEND_TRANSFORM_PRIM_FUNC_PASS_H_

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

/*!
 * \brief The body of a PrimFunc pass: (PrimFunc, IRModule, PassContext) -> PrimFunc.
 *
 * Objects are passed as tvm::ffi::ObjectRef; read their fields with tvm-ffi reflection. The
 * function may throw; the pass re-raises the error with the pass name in front.
 */
using PrimFuncPassBody = tvm::ffi::ObjectRef (*)(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef mod,
                                                 tvm::ffi::ObjectRef pass_context);

/*!
 * \brief Create a new PrimFuncPass object (a `tvm.tirx.transform.PrimFuncPass` in Python).
 * \param name The pass name shown by instruments, timing and errors.
 * \param body The transformation.
 * \param opt_level The pass's opt_level, as in tvm.transform.PassInfo.
 * \param required Names of passes TVM must run first.
 */
template <typename Body>
tvm::ffi::ObjectRef MakePrimFuncPass(std::string name, Body body, int opt_level,
                                     tvm::ffi::Array<tvm::ffi::String> required = {}) {
  const std::string needed_by = "pass " + name;
  tvm::ffi::Function pass_info = abi::RequireGlobal("transform.PassInfo", needed_by);
  tvm::ffi::Function create = abi::RequireGlobal("tirx.transform.CreatePrimFuncPass", needed_by);
  tvm::ffi::Function wrapped = tvm::ffi::Function::FromTyped(
      // TVM hands the function over as an rvalue reference, so the body owns it and a
      // copy-on-write rewrite may reuse nodes that nobody else holds.
      [name, body](tvm::ffi::RValueRef<tvm::ffi::ObjectRef> func, tvm::ffi::ObjectRef mod,
                   tvm::ffi::ObjectRef ctx) -> tvm::ffi::ObjectRef {
        tvm::ffi::ObjectRef owned = *std::move(func);
        const int32_t expected_type = owned->type_index();
        tvm::ffi::ObjectRef result = Guarded("pass " + name + " failed: ", [&] {
          return body(std::move(owned), std::move(mod), std::move(ctx));
        });
        if (!result.defined() || result->type_index() != expected_type) {
          throw tvm::ffi::Error(error_kind::kType,
                                "pass " + name + " returned " +
                                    (result.defined() ? result->GetTypeKey() : "None") +
                                    "; a PrimFunc pass must return a tirx.PrimFunc",
                                "");
        }
        return result;
      },
      name);
  tvm::ffi::ObjectRef info =
      pass_info(opt_level, tvm::ffi::String(name), required, false).cast<tvm::ffi::ObjectRef>();
  return create(wrapped, info).cast<tvm::ffi::ObjectRef>();
}

}  // namespace transform
}  // namespace tvm_extend
#endif  // TVM_EXTEND_TRANSFORM_PRIM_FUNC_PASS_H_
