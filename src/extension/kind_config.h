/*!
 * \file src/extension/kind_config.h
 * \brief What the pass config kind (kind_config.cc) tells the Python package.
 */
#ifndef TVM_EXTEND_SRC_EXTENSION_KIND_CONFIG_H_
#define TVM_EXTEND_SRC_EXTENSION_KIND_CONFIG_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/container/array.h>

namespace tvm_extend {
namespace loader {

/*!
 * \brief Every pass config option an extension registered in this process (TVM keeps them all):
 *        {name, type, default, doc, extension, owner, source, active}, by name.
 */
tvm::ffi::Array<tvm::ffi::Any> DescribeConfigOptions();

}  // namespace loader
}  // namespace tvm_extend
#endif  // TVM_EXTEND_SRC_EXTENSION_KIND_CONFIG_H_
