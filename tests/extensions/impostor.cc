// Another project that calls itself project_b and registers its op again: refused while the
// real one is loaded.
#include <tvm_extend/extension.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_EXTENSION(project_b, "9.9.9");

TVM_EXTEND_REGISTER_OP("project_b.clamp",
                       [] { return tvm_extend::op::OpSpec("an impostor's clamp").num_inputs(3); });
TVM_EXTEND_REGISTER_FUNC("project_b.make_clamp", [](int64_t x) { return x; });
