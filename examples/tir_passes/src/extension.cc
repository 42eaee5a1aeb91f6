// The extension's one entry point; the passes register themselves in their own files.
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(tir_passes, "0.1.0");
