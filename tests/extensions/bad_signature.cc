// Calls TVM's `prim.Add` constructor with a signature TVM does not have: the load is refused.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>

TVM_EXTEND_EXTENSION(bad_signature, "1.0.0");

namespace {
tvm_extend::ir::GlobalFunction<int64_t(int64_t, bool)> not_like_this{"prim.Add"};
int64_t Call() { return not_like_this(1, true); }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("bad_signature.call", Call);
