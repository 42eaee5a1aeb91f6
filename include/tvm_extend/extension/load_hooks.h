/*!
 * \file tvm_extend/extension/load_hooks.h
 * \brief Checks an extension library runs when the loader asks for its functions, before any is
 *        created (e.g. the IR schema binding of tvm_extend/ir/view.h). A hook that throws
 *        refuses the load, and nothing of the extension registers.
 */
#ifndef TVM_EXTEND_EXTENSION_LOAD_HOOKS_H_
#define TVM_EXTEND_EXTENSION_LOAD_HOOKS_H_

#include <vector>

#pragma GCC visibility push(hidden)
namespace tvm_extend {
namespace detail {

/*! \brief The hooks of this library (private to it), in registration order. */
inline std::vector<void (*)()>& LoadHooks() {
  static std::vector<void (*)()> hooks;
  return hooks;
}

/*! \brief Adds a load hook from a static initializer. */
struct LoadHookRegistrar {
  explicit LoadHookRegistrar(void (*hook)()) { LoadHooks().push_back(hook); }
};

}  // namespace detail
}  // namespace tvm_extend
#pragma GCC visibility pop

#endif  // TVM_EXTEND_EXTENSION_LOAD_HOOKS_H_
