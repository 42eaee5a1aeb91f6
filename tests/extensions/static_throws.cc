// A tvm-extend extension with a static initializer that throws: mapping it ends the process
// (std::terminate), so the loader must see it happen in its probe process only.
#include <tvm_extend/extension.h>

#include <stdexcept>

TVM_EXTEND_EXTENSION(static_throws, "1.0.0");

namespace {
int64_t One() { return 1; }

struct ThrowsAtLoad {
  ThrowsAtLoad() { throw std::runtime_error("static_throws: the config file is missing"); }
};
ThrowsAtLoad throws_at_load;
}  // namespace

TVM_EXTEND_REGISTER_FUNC("static_throws.f", One);
