// Reads IR that only TVM 0.27 has (prim.LShift nodes, ir.TensorLoad's `source`) and calls an op
// helper TVM renamed (prim.left_shift, tirx.left_shift in 0.26): it loads on 0.27 and is refused
// on 0.26 with both missing types named at once (tests/python/test_across_releases.py).
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

TVM_EXTEND_EXTENSION(uses_new_ir, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::ir::NodeRef;

inline tvm_extend::ir::GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)> left_shift{
    "prim.left_shift"};

std::string Describe(tvm::ffi::ObjectRef expr) {
  NodeRef e(expr);
  if (LShift s = e.as<LShift>(); s.defined()) return "shift of " + s.a().type_key();
  if (TensorLoad l = e.as<TensorLoad>(); l.defined()) return "load of " + l.source().type_key();
  return "other";
}

tvm::ffi::ObjectRef Shift(tvm::ffi::ObjectRef x, tvm::ffi::ObjectRef by) {
  return left_shift(NodeRef(x).Downcast<Expr>(), NodeRef(by).Downcast<Expr>(), {});
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("uses_new_ir.describe", Describe);
TVM_EXTEND_REGISTER_FUNC("uses_new_ir.shift", Shift);
