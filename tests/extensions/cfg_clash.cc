// An extension called "tirx" that claims TVM's own pass config option tirx.noalias.
#include <tvm_extend/config/config.h>
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(tirx, "6.6.6");

TVM_EXTEND_REGISTER_PASS_CONFIG("tirx.noalias", bool, true, "TVM's, claimed again");
