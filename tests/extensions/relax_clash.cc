// Misbehaving Relax registrations, one per build (RELAX_CLASH):
//  1 claims relax.ext.relaxops_cg, the codegen of test extension relaxops;
//  2 registers the Relax op relaxclash.add, whose name the test gives TVM from Python first;
//  3 a Relax op without type inference;
//  4 a Relax op lowered to a packed function nobody has;
//  5 a codegen whose name has a dot.
#include <tvm_extend/backend/codegen.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/op/relax_op.h>

TVM_EXTEND_EXTENSION(RELAX_CLASH_EXT, "1.0.0");

namespace {
int64_t One() { return 1; }
[[maybe_unused]] tvm::ffi::ObjectRef SameType(tvm::ffi::ObjectRef call, tvm::ffi::ObjectRef) {
  return call;
}
[[maybe_unused]] tvm::ffi::Module NoModule(tvm::ffi::ObjectRef,
                                           tvm_extend::backend::CodegenOptions) {
  throw std::runtime_error("never called");
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC(RELAX_CLASH_EXT_NAME ".one", One);
#if RELAX_CLASH == 1
TVM_EXTEND_REGISTER_CODEGEN("relaxops_cg", [] {
  return tvm_extend::backend::CodegenSpec("a second claim").codegen(NoModule);
});
#elif RELAX_CLASH == 2
TVM_EXTEND_REGISTER_RELAX_OP("relaxclash.add", [] {
  return tvm_extend::op::RelaxOpSpec("clash").input("x", "Tensor", "x").infer_type(SameType);
});
#elif RELAX_CLASH == 3
TVM_EXTEND_REGISTER_RELAX_OP("relaxnoinfer.op", [] {
  return tvm_extend::op::RelaxOpSpec("no inference").input("x", "Tensor", "x");
});
#elif RELAX_CLASH == 4
TVM_EXTEND_REGISTER_RELAX_OP("relaxnopacked.op", [] {
  return tvm_extend::op::RelaxOpSpec("lowered to nothing")
      .input("x", "Tensor", "x")
      .infer_type(SameType)
      .call_packed("relaxnopacked.run.missing");
});
#elif RELAX_CLASH == 5
TVM_EXTEND_REGISTER_CODEGEN("relaxdotted.cg", [] {
  return tvm_extend::backend::CodegenSpec("a dotted name").codegen(NoModule);
});
#endif
