/*!
 * \file extension.cc
 * \brief project_llm: an MLC-LLM-style extension, out of tree: a BYOC codegen that compiles a
 *        transformer's matmuls to register-blocked CPU kernels and the pass that offloads to it
 *        (codegen.cc), Relax passes with their ops (passes.cc), and a CPU schedule for the
 *        kernels TVM's default pipeline leaves unscheduled (schedule.cc).
 */
#include <tvm_extend/extension.h>

TVM_EXTEND_EXTENSION(project_llm, "0.1.0");
