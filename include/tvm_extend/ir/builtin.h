/*!
 * \file tvm_extend/ir/builtin.h
 * \brief Handles to TVM's builtin ops (`if_then_else`, `likely`, `reinterpret`, ...), found by
 *        name through TVM's `ir.GetOp` under whichever name the running TVM uses, a cheap
 *        test `IsOp(expr, builtin::likely())`, and a maker for calls to them.
 *
 * \code
 * if (IsOp(cond, builtin::likely())) cond = Call(cond).args()[0];
 * Expr e = MakeCall(kInt32, builtin::if_then_else(), {c, a, b});
 * \endcode
 *
 * An op is looked up on first use and cached (thread-safe); TVM keeps one object per op, so the
 * test is a pointer comparison. Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_IR_BUILTIN_H_
#define TVM_EXTEND_IR_BUILTIN_H_

#include <tvm/ffi/string.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/renames.h>
#include <tvm_extend/ir/tir.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tvm_extend {
namespace tir {
namespace builtin_detail {
#pragma GCC visibility push(hidden)
inline ::tvm_extend::ir::GlobalFunction<Op(tvm::ffi::String)> get_op{"ir.GetOp"};
#pragma GCC visibility pop
}  // namespace builtin_detail

/*!
 * \brief The op that TVM registers under the first of `names` it has, each name also tried under
 *        the names other supported releases give the same op (ir/renames.h: "prim.likely" in
 *        0.27 is "tirx.likely" in 0.26), or an error naming every name tried.
 */
inline Op GetOp(const char* const* names, size_t count) {
  std::vector<std::string_view> tried;
  for (size_t i = 0; i < count; ++i) {
    for (std::string_view name : ::tvm_extend::ir::OpNamesOf(names[i])) {
      if (std::find(tried.begin(), tried.end(), name) != tried.end()) continue;
      tried.push_back(name);
      try {
        return builtin_detail::get_op(tvm::ffi::String(std::string(name)));
      } catch (const tvm::ffi::Error&) {
        // not under this name: try the next
      }
    }
  }
  std::string list;
  for (std::string_view name : tried) {
    list += (list.empty() ? "`" : ", `") + std::string(name) + "`";
  }
  TVM_FFI_THROW(ValueError) << "tvm-extend: the running TVM has no op " << list;
}
inline Op GetOp(std::initializer_list<const char*> names) {
  return GetOp(names.begin(), names.size());
}
inline Op GetOp(const std::string& name) { return GetOp({name.c_str()}); }

/*! \brief A lazily looked-up op: `static OpHandle h{"prim.likely"};` (GetOp's names). */
class OpHandle {
 public:
  OpHandle(std::initializer_list<const char*> names) : names_(names) {}
  const Op& get() const {
    std::call_once(once_, [this] { op_ = GetOp(names_.data(), names_.size()); });
    return op_;
  }
  operator const Op&() const { return get(); }  // NOLINT(google-explicit-constructor)

 private:
  std::vector<const char*> names_;
  mutable std::once_flag once_;
  mutable Op op_;
};

/*! \brief Whether `expr` is a call to `op`. */
inline bool IsOp(const Expr& expr, const Op& op) {
  Call call = expr.as<Call>();
  return call.defined() && call.op().same_as(op);
}

/*! \brief `op(args...)` with result type `dtype`, as `tvm.tirx.call_intrin` makes it. */
inline Call MakeCall(DLDataType dtype, const Op& op, const std::vector<Expr>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].defined()) {
      TVM_FFI_THROW(ValueError) << "tvm-extend: MakeCall: argument " << i << " of `"
                                << (op.defined() ? std::string(op.name()) : "null op")
                                << "` is null";
    }
  }
  return Call::Make(
      PrimType::Make(dtype), op,
      ::tvm_extend::ir::List<Expr>(tvm::ffi::Array<tvm::ffi::ObjectRef>(args.begin(), args.end())),
      Attrs(), {}, {});
}

/*!
 * \brief TVM's builtin ops, named as TVM 0.27 names them; GetOp finds each under the running
 *        release's name (0.26: `tirx.if_then_else`, `tirx.likely`, `tirx.vscale`).
 */
namespace builtin {
#define TVM_EXTEND_BUILTIN(fn, name)    \
  inline const Op& fn() {               \
    static const OpHandle handle{name}; \
    return handle.get();                \
  }
TVM_EXTEND_BUILTIN(if_then_else, "prim.if_then_else")
TVM_EXTEND_BUILTIN(likely, "prim.likely")
TVM_EXTEND_BUILTIN(vscale, "prim.vscale")
TVM_EXTEND_BUILTIN(reinterpret, "tirx.reinterpret")
TVM_EXTEND_BUILTIN(call_extern, "tirx.call_extern")
TVM_EXTEND_BUILTIN(call_pure_extern, "tirx.call_pure_extern")
TVM_EXTEND_BUILTIN(address_of, "tirx.address_of")
TVM_EXTEND_BUILTIN(assume, "tirx.assume")
TVM_EXTEND_BUILTIN(undef, "tirx.undef")
TVM_EXTEND_BUILTIN(popcount, "tirx.popcount")
TVM_EXTEND_BUILTIN(isnan, "tirx.isnan")
TVM_EXTEND_BUILTIN(fma, "tirx.fma")
#undef TVM_EXTEND_BUILTIN
}  // namespace builtin

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_BUILTIN_H_
