// Overrides an attribute of an op another extension registered (ops_ext.fma).
#include <tvm_extend/extension.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(override_foreign, "1.0.0");

TVM_EXTEND_OVERRIDE_OP_ATTR("ops_ext.fma", "TVectorizable", true);
