// Builtins under the extension's prefix with TVM's call effect: effects.pure_add is pure (TVM
// may drop an unused call or merge two equal ones), effects.opaque_add is opaque (TVM keeps it).
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(effects, "1.0.0");

namespace {
using tvm_extend::op::CallEffect;
using tvm_extend::op::OpSpec;

tvm::ffi::ObjectRef LowerAdd(tvm::ffi::ObjectRef call_ref) {
  tvm_extend::tir::Call call(call_ref);
  return call.args()[0] + call.args()[1];
}
}  // namespace

TVM_EXTEND_REGISTER_OP("effects.pure_add", [] {
  return OpSpec("a + b, pure").num_inputs(2).call_effect(CallEffect::kPure).lower("llvm", LowerAdd);
});
TVM_EXTEND_REGISTER_OP("effects.read_add", [] {
  return OpSpec("a + b, reads state")
      .num_inputs(2)
      .call_effect(CallEffect::kReadState)
      .lower("llvm", LowerAdd);
});
TVM_EXTEND_REGISTER_OP("effects.opaque_add", [] {
  return OpSpec("a + b, opaque")
      .num_inputs(2)
      .call_effect(CallEffect::kOpaque)
      .lower("llvm", LowerAdd);
});
