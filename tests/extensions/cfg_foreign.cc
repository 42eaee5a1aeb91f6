// A plain library, not a tvm-extend extension, that registers the pass config option
// cfg_outside.tile from a static initializer through TVM's C++ API, as TileLang's
// TVM_REGISTER_PASS_CONFIG_OPTION does (TVM's headers are not shipped: the function is declared
// here, as in TVM's include/tvm/ir/transform.h).
#include <tvm/ffi/any.h>
#include <tvm/ffi/string.h>

#include <functional>

namespace tvm {
namespace transform {
class PassContext {
 public:
  static void RegisterConfigOption(const char* key, ffi::String value_type_str,
                                   std::function<ffi::Any(ffi::Any)> legalization);
};
}  // namespace transform
}  // namespace tvm

namespace {
[[maybe_unused]] const int registered = [] {
  tvm::transform::PassContext::RegisterConfigOption("cfg_outside.tile", "int",
                                                    [](tvm::ffi::Any value) { return value; });
  return 0;
}();
}  // namespace
