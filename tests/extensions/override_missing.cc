// Overrides an attribute of an op TVM does not have.
#include <tvm_extend/extension.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(override_missing, "1.0.0");

TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.no_such_op", "TVectorizable", true);
