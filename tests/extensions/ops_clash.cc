// Registers an op whose name the test has already given to TVM from Python.
#include <tvm_extend/extension.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(ops_clash, "1.0.0");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("ops_clash.one", One);
TVM_EXTEND_REGISTER_OP("ops_clash.fma",
                       [] { return tvm_extend::op::OpSpec("clash").num_inputs(3); });
