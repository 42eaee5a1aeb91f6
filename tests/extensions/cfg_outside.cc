// An extension whose option cfg_outside.tile a plain library (cfg_foreign.cc) registered first.
#include <tvm_extend/config/config.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(cfg_outside, "1.0.0");

TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_outside.tile", int64_t, 8, "a tile");
