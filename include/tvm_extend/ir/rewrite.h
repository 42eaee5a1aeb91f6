/*!
 * \file tvm_extend/ir/rewrite.h
 * \brief Copy-on-write rewriting of TVM IR by type key, through tvm-ffi's C ABI.
 *
 * The walk is tvm-ffi's own `ffi.StructuralMap`, called as a global function. It runs inside
 * libtvm_ffi together with the hooks TVM registered for its node types, so the extension never
 * shares a C++ class layout with TVM: only tvm-ffi's stable C ABI crosses. Unchanged subtrees
 * are returned as the same objects.
 */
#ifndef TVM_EXTEND_IR_REWRITE_H_
#define TVM_EXTEND_IR_REWRITE_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/c_api.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/tuple.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/function.h>
#include <tvm_extend/abi/global.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace ir {

/*! \brief The runtime type index of a type key; an error names the key when TVM lacks it. */
inline int32_t TypeIndexOf(const std::string& type_key) {
  TVMFFIByteArray key{type_key.data(), type_key.size()};
  int32_t index = -1;
  if (TVMFFITypeKeyToIndex(&key, &index) != 0) {
    (void)tvm::ffi::detail::MoveFromSafeCallRaised();
    TVM_FFI_THROW(RuntimeError) << "tvm-extend: the running TVM has no IR node type `" << type_key
                                << "`; it may have been renamed";
  }
  return index;
}

/*! \brief A rewrite rule: for nodes of `type_key`, return a replacement or the node itself. */
struct RewriteRule {
  std::string type_key;
  std::function<tvm::ffi::Any(tvm::ffi::ObjectRef)> rewrite;
};

/*!
 * \brief Rewrite `root` bottom-up: each node of a rule's type is passed, after its children were
 *        rewritten, to that rule. A node no rule matches is rebuilt only if a child changed.
 * \param root The IR to rewrite; pass an owned value (std::move) to let unshared nodes be reused.
 */
inline tvm::ffi::Any PostOrderRewrite(tvm::ffi::Any root, const std::vector<RewriteRule>& rules) {
  static const tvm::ffi::Function structural_map =
      abi::RequireGlobal("ffi.StructuralMap", "tvm_extend::ir::PostOrderRewrite");
  tvm::ffi::Array<tvm::ffi::Tuple<int64_t, tvm::ffi::Function>> callbacks;
  for (const RewriteRule& rule : rules) {
    callbacks.push_back(tvm::ffi::Tuple<int64_t, tvm::ffi::Function>(
        TypeIndexOf(rule.type_key),
        tvm::ffi::Function::FromTyped(
            [fn = rule.rewrite](tvm::ffi::ObjectRef node) { return fn(std::move(node)); })));
  }
  constexpr int64_t kPostOrder = 1;
  return structural_map(std::move(root), callbacks,
                        tvm::ffi::Array<tvm::ffi::Tuple<int64_t, tvm::ffi::Function>>(),
                        kPostOrder);
}

}  // namespace ir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_REWRITE_H_
