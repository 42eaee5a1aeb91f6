/*!
 * \file tvm_extend/abi/core_api.h
 * \brief TVM_EXTEND_CORE_API marks what the tvm-extend core library exports; everything else in
 *        it stays hidden.
 */
#ifndef TVM_EXTEND_ABI_CORE_API_H_
#define TVM_EXTEND_ABI_CORE_API_H_

#define TVM_EXTEND_CORE_API __attribute__((visibility("default")))

#endif  // TVM_EXTEND_ABI_CORE_API_H_
