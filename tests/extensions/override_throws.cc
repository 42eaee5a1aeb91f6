// An LLVM lowering of tirx.log that throws a std::exception: compiling a kernel that uses log
// fails with an error naming the override, and the process goes on.
#include <tvm_extend/extension.h>
#include <tvm_extend/op/op.h>

#include <stdexcept>

TVM_EXTEND_EXTENSION(override_throws, "1.0.0");

TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.log", "llvm.FLowerIntrinsic",
                            [](tvm::ffi::ObjectRef) -> tvm::ffi::ObjectRef {
                              throw std::out_of_range("no log for this target today");
                            });
