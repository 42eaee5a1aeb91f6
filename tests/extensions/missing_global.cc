// Needs a TVM global function that does not exist: the load is refused.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>

TVM_EXTEND_EXTENSION(missing_global, "1.0.0");

namespace {
tvm_extend::ir::GlobalFunction<int64_t(int64_t)> gone{"tirx.analysis.RemovedInSomeRelease"};
int64_t Call() { return gone(1); }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("missing_global.call", Call);
