// Owned overrides of TVM's ops: an LLVM lowering of tirx.exp that adds OVERRIDE_ADD instead of
// exponentiating (observable in a kernel's result), and TVectorizable on tirx.atan. Built as
// override_a (add 100), override_a2 (the same extension, add 200), override_a_none (the same
// extension without overrides) and override_b (another extension, the same lowering).
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(OVERRIDE_EXT, "1.0.0");

namespace {
int64_t Added() { return OVERRIDE_ADD; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC(OVERRIDE_EXT_NAME ".added", Added);

#if OVERRIDE_ADD > 0
namespace {
tvm::ffi::ObjectRef LowerExp(tvm::ffi::ObjectRef call_ref) {
  tvm_extend::tir::Call call(call_ref);
  return call.args()[0] + int64_t{OVERRIDE_ADD};
}
}  // namespace

TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.exp", "llvm.FLowerIntrinsic", LowerExp);
#endif
#if OVERRIDE_ATAN
TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.atan", "TVectorizable", true);
#endif
