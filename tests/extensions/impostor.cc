// Another project that calls itself project_b: refused while the real one is loaded.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(project_b, "9.9.9");

TVM_EXTEND_REGISTER_FUNC("project_b.make_clamp", [](int64_t x) { return x; });
