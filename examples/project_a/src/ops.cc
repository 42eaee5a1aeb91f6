/*!
 * \file ops.cc
 * \brief project_a.fma(a, b, c) = a * b + c: a TIR op lowered for every target ("default"), so it
 *        also runs in kernels that other projects' backends build.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/op.h>

namespace project_a {
namespace {
tvm::ffi::ObjectRef LowerFma(tvm::ffi::ObjectRef call_ref) {
  tvm_extend::tir::Call call(call_ref);
  return call.args()[0] * call.args()[1] + call.args()[2];
}
}  // namespace
}  // namespace project_a

TVM_EXTEND_REGISTER_OP("project_a.fma", [] {
  return tvm_extend::op::OpSpec("a * b + c")
      .num_inputs(3)
      .attr("TCallEffectKind", int64_t{1})  // pure
      .lower("default", project_a::LowerFma);
});
