// project_b: a hardware vendor's extension, out of tree: an ext_dev backend (backend.cc), an op
// with per-target lowering and a pass (ops.cc).
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(project_b, "0.1.0");
