/*!
 * \file extension.cc
 * \brief project_llm: an MLC-LLM-style extension, out of tree: a BYOC codegen that compiles a
 *        transformer's matmuls to register-blocked CPU kernels (codegen.cc).
 */
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(project_llm, "0.1.0");
