/*!
 * \file tvm_extend/extension.h
 * \brief Everything an extension library needs: TVM_EXTEND_EXTENSION and the registration
 *        macros. Include this one header.
 */
#ifndef TVM_EXTEND_EXTENSION_H_
#define TVM_EXTEND_EXTENSION_H_

#include <tvm_extend/extension/abi.h>
#include <tvm_extend/extension/registry.h>
#include <tvm_extend/transform/prim_func_pass.h>

#endif  // TVM_EXTEND_EXTENSION_H_
