// A second extension, to load beside my_custom_pass: a function and a PrimFunc pass.
#include <tvm/ffi/reflection/accessor.h>
#include <tvm_extend/extension.h>

#include <atomic>
#include <cstdint>
#include <string>

TVM_EXTEND_EXTENSION(ext_b, "0.2.0");

namespace {
std::atomic<int64_t> pass_runs{0};

int64_t AddOne(int64_t x) { return x + 1; }
std::string Greet(std::string who) { return "hello, " + who; }
int64_t PassRuns() { return pass_runs.load(); }

// Counts its runs and returns the function unchanged.
tvm::ffi::ObjectRef CountRuns(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
  ++pass_runs;
  return func;
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("ext_b.add_one", AddOne);
TVM_EXTEND_REGISTER_FUNC("ext_b.greet", Greet);
TVM_EXTEND_REGISTER_FUNC("ext_b.pass_runs", PassRuns);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("ext_b.transform.CountRuns", CountRuns, 0);
// A capturing lambda whose text holds commas, straight in the macro.
TVM_EXTEND_REGISTER_FUNC("ext_b.weighted_sum",
                         [scale = int64_t{10}, bias = int64_t{1}](int64_t a, int64_t b) {
                           return scale * a + b + bias;
                         });
