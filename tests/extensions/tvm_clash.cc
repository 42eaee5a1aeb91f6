// An extension called "tirx" that claims one of TVM's own pass names.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(tirx, "6.6.6");

namespace {
int64_t One() { return 1; }
}  // namespace

TVM_EXTEND_REGISTER_FUNC("tirx.transform.StmtSimplify", One);
