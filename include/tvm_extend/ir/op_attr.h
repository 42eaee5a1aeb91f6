/*!
 * \file tvm_extend/ir/op_attr.h
 * \brief Attributes of TVM's ops (`TCallEffectKind`, `TVectorizable`, ...) read from C++
 *        through TVM's `ir.OpHasAttr` / `ir.OpGetAttr`, and the side effect of an expression
 *        computed from them as TVM's `SideEffect` does.
 *
 * \code
 * if (CallEffect(call) <= CallEffectKind::kPure) { ... }
 * tvm::ffi::Any v = GetOpAttr(builtin::likely(), "TVectorizable");  // true
 * \endcode
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_OP_ATTR_H_
#define TVM_EXTEND_IR_OP_ATTR_H_

#include <tvm/ffi/any.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace tvm_extend {
namespace tir {
namespace op_attr_detail {
#pragma GCC visibility push(hidden)
inline ::tvm_extend::ir::GlobalFunction<bool(Op, tvm::ffi::String)> has_attr{"ir.OpHasAttr"};
inline ::tvm_extend::ir::GlobalFunction<tvm::ffi::Any(Op, tvm::ffi::String)> get_attr{
    "ir.OpGetAttr"};
#pragma GCC visibility pop
}  // namespace op_attr_detail

/*! \brief Whether `op` has attribute `key` (false, not an error, for a key no op has). */
inline bool HasOpAttr(const Op& op, const std::string& key) {
  return op_attr_detail::has_attr(op, key);
}

/*! \brief Attribute `key` of `op`; None when the op does not have it. */
inline tvm::ffi::Any GetOpAttr(const Op& op, const std::string& key) {
  if (!HasOpAttr(op, key)) return tvm::ffi::Any();
  return op_attr_detail::get_attr(op, key);
}

/*! \brief An integer attribute (stored as an int or as an IntImm), or nothing. */
inline std::optional<int64_t> GetOpIntAttr(const Op& op, const std::string& key) {
  tvm::ffi::Any v = GetOpAttr(op, key);
  if (auto i = v.as<int64_t>()) return *i;
  if (auto obj = v.as<tvm::ffi::ObjectRef>()) {
    if (IntImm imm = ::tvm_extend::ir::NodeRef(*obj).as<IntImm>(); imm.defined()) {
      return imm.value();
    }
  }
  return std::nullopt;
}

/*! \brief TVM's CallEffectKind (values as in TVM's `TCallEffectKind` attribute). */
enum class CallEffectKind : int64_t {
  kExprAnnotation = 0,
  kPure = 1,
  kReadState = 2,
  kUpdateState = 3,
  kSpecialCallArg = 4,
  kEmbedded = 5,
  kControlJump = 6,
};
inline constexpr CallEffectKind kOpaqueEffect = CallEffectKind::kUpdateState;

/*! \brief The effect of one call: its op's TCallEffectKind; opaque for non-op callees. */
inline CallEffectKind CallEffect(const Call& call) {
  Op op = call.op().as<Op>();
  if (!op.defined()) return kOpaqueEffect;
  std::optional<int64_t> kind = GetOpIntAttr(op, "TCallEffectKind");
  return kind.has_value() ? static_cast<CallEffectKind>(*kind) : kOpaqueEffect;
}

/*!
 * \brief TVM's SideEffect with each op's TCallEffectKind read once: for a pass that asks about
 *        many expressions. Keep one per pass run (an extension may change an op's attribute
 *        between runs).
 */
class SideEffectCache {
 public:
  /*! \brief The strongest effect in `expr`: loads read state, calls as CallEffect. */
  CallEffectKind Of(const Expr& expr) {
    Walker walker(this);
    walker.VisitExpr(expr);
    return walker.kind;
  }

  /*! \brief CallEffect(call), its op's kind read once. */
  CallEffectKind OfCall(const Call& call) {
    Op op = call.op().as<Op>();
    if (!op.defined()) return kOpaqueEffect;
    auto it = kinds_.find(op.get());
    if (it != kinds_.end()) return it->second;
    return kinds_.emplace(op.get(), CallEffect(call)).first->second;
  }

 private:
  struct Walker : StmtExprVisitor {
    explicit Walker(SideEffectCache* cache) : cache(cache) {}
    void Raise(CallEffectKind k) {
      kind = static_cast<CallEffectKind>(
          std::max(static_cast<int64_t>(kind), static_cast<int64_t>(k)));
    }
    void VisitExpr_(const TensorLoad& op) override {
      Raise(CallEffectKind::kReadState);
      StmtExprVisitor::VisitExpr_(op);
    }
    void VisitExpr_(const Call& op) override {
      Raise(cache->OfCall(op));
      StmtExprVisitor::VisitExpr_(op);
    }
    SideEffectCache* cache;
    CallEffectKind kind = CallEffectKind::kExprAnnotation;
  };
  std::unordered_map<const tvm::ffi::Object*, CallEffectKind> kinds_;
};

/*! \brief The strongest effect in `expr`: loads read state, calls as CallEffect. */
inline CallEffectKind SideEffect(const Expr& expr) { return SideEffectCache().Of(expr); }

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_OP_ATTR_H_
