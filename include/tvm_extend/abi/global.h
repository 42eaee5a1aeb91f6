/*!
 * \file tvm_extend/abi/global.h
 * \brief Finding TVM's global functions by name, with an error that says what is missing.
 */
#ifndef TVM_EXTEND_ABI_GLOBAL_H_
#define TVM_EXTEND_ABI_GLOBAL_H_

#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/ir/renames.h>

#include <cstring>
#include <optional>
#include <string_view>

namespace tvm_extend {
namespace abi {

/*!
 * \brief A global function of the running TVM under `name` or, when it has none, under a name
 *        TVM gave the same function in another supported release (tvm_extend/ir/renames.h).
 */
inline std::optional<tvm::ffi::Function> FindGlobal(std::string_view name) {
  for (std::string_view each : ::tvm_extend::ir::NamesOf(name)) {
    if (std::optional<tvm::ffi::Function> f = tvm::ffi::Function::GetGlobal(each)) return f;
  }
  return std::nullopt;
}

/*!
 * \brief Look up a global function of the running TVM (under a known other name if renamed).
 * \param name The dotted global name, e.g. "tirx.transform.CreatePrimFuncPass".
 * \param needed_by Who needs it, named in the error.
 * \throws tvm::ffi::Error (kind "RuntimeError") when the running TVM has no such function.
 */
inline tvm::ffi::Function RequireGlobal(std::string_view name, std::string_view needed_by) {
  std::optional<tvm::ffi::Function> f = FindGlobal(name);
  if (!f.has_value()) {
    TVM_FFI_THROW(RuntimeError) << "tvm-extend: the running TVM has no global function `" << name
                                << "`, which " << needed_by
                                << " needs. TVM may have renamed or removed it; check the TVM "
                                   "version with `python -m tvm_extend --tvm-version`.";
  }
  return *f;
}

}  // namespace abi
}  // namespace tvm_extend
#endif  // TVM_EXTEND_ABI_GLOBAL_H_
