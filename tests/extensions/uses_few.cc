// Uses two node types and two fields of TVM's IR, and no visitor: its use record must list
// exactly these, all strong (tests/python/test_across_releases.py).
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>

TVM_EXTEND_EXTENSION(uses_few, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

// The constant extent of a loop, or -1.
int64_t ExtentOf(tvm::ffi::ObjectRef stmt) {
  For loop = tvm_extend::ir::NodeRef(stmt).as<For>();
  if (!loop.defined()) return -1;
  IntImm extent = loop.extent().as<IntImm>();
  return extent.defined() ? extent.value() : -1;
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("uses_few.extent_of", ExtentOf);
