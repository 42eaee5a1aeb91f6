// The smallest extension: built by the probe project to show that the TVM it resolved links.
#include <tvm_extend/extension.h>

#include <cstdint>

TVM_EXTEND_EXTENSION(probe_ext, "0.1.0");

namespace {
int64_t Twice(int64_t x) { return 2 * x; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("probe_ext.twice", Twice);
