// project_a: a TileLang-style extension, out of tree: a composite schedule primitive with its
// rule and pass (matmul.cc), and an op (ops.cc).
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(project_a, "0.1.0");
