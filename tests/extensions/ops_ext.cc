// A TIR op with an attribute and an LLVM lowering, plus a C++ function that calls it.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(ops_ext, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

// ops_ext.fma(a, b, c) -> a * b + c, for targets without a fused instruction.
tvm::ffi::ObjectRef LowerFma(tvm::ffi::ObjectRef call_ref) {
  Call call(call_ref);
  return call.args()[0] * call.args()[1] + call.args()[2];
}

tvm_extend::ir::GlobalFunction<Op(tvm::ffi::String)> get_op{"ir.GetOp"};

// The op used from C++: a Call node of ops_ext.fma.
tvm::ffi::ObjectRef MakeFma(tvm::ffi::ObjectRef a, tvm::ffi::ObjectRef b, tvm::ffi::ObjectRef c) {
  Expr first(a);
  std::vector<tvm::ffi::ObjectRef> args{a, b, c};
  return Call::Make(first.ty(), get_op("ops_ext.fma"),
                    tvm_extend::ir::List<Expr>(tvm::ffi::Array<tvm::ffi::ObjectRef>(args)), {}, {});
}
}  // namespace

TVM_EXTEND_REGISTER_OP("ops_ext.fma", [] {
  return tvm_extend::op::OpSpec("a * b + c")
      .num_inputs(3)
      .attr("TCallEffectKind", int64_t{1})  // pure
      .lower("llvm", LowerFma);
});
TVM_EXTEND_REGISTER_FUNC("ops_ext.make_fma", MakeFma);
