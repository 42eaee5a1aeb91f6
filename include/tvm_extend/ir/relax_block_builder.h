/*!
 * \file tvm_extend/ir/relax_block_builder.h
 * \brief TVM's Relax BlockBuilder from C++, and helpers for bindings and dataflow blocks.
 *
 * The builder is TVM's own `relax.BlockBuilder`, driven through its registered global functions
 * (`relax.BlockBuilderCreate`, `relax.BlockBuilderEmit`, `relax.BlockBuilderNormalize`, ...),
 * whose signatures are checked when the extension loads. Normalizing through it is what gives a
 * new or rewritten expression its type: a call is built with a missing type and TVM's type
 * inference for its op fills it in, exactly as TVMScript or Python's BlockBuilder would.
 *
 * \code
 * BlockBuilder bb = BlockBuilder::Create();
 * bb.BeginDataflowBlock();
 * Var y = bb.Emit(MakeCall("relax.multiply", {x, two}), "y");   // y: R.Tensor((n,), "float32")
 * BindingBlock block = bb.EndBlock();
 * \endcode
 *
 * Needs the generated <tvm_extend/ir/relax.h>; the bodies are in tvm_extend/ir/relax_functor.cc,
 * compiled once per build folder. Not thread-safe: one builder per thread, as in TVM.
 */
#ifndef TVM_EXTEND_IR_RELAX_BLOCK_BUILDER_H_
#define TVM_EXTEND_IR_RELAX_BLOCK_BUILDER_H_

#include <tvm/ffi/object.h>
#include <tvm_extend/ir/relax.h>

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tvm_extend {
namespace relax {

/*! \brief TVM's `relax.BlockBuilder`: emits bindings into blocks and normalizes expressions. */
class BlockBuilder {
 public:
  /*! \brief A new builder; `context` is the module whose functions the new code may call (its
   *         global variables resolve through it), or none. */
  static BlockBuilder Create(const IRModule& context = IRModule());

  /*! \brief Bind `value` (normalized) to a new variable named `name_hint` in the current block:
   *         a DataflowVar inside a dataflow block, a Var elsewhere; its type is the value's. */
  Var Emit(const Expr& value, const std::string& name_hint = "");
  /*! \brief `R.match_cast(value, ty)` bound to a new variable. */
  Var EmitMatchCast(const Expr& value, const Type& ty, const std::string& name_hint = "");
  /*! \brief Bind `value` to a Var visible after the current dataflow block (its output). */
  Var EmitOutput(const Expr& value, const std::string& name_hint = "");
  /*! \brief Emit a binding whose value is already normalized, as it is (its variable kept). */
  void EmitNormalized(const Binding& binding);
  /*! \brief `expr` with its type (and the types below it) inferred; nested non-leaf arguments
   *         are bound to new variables in the current block. */
  Expr Normalize(const Expr& expr);

  void BeginDataflowBlock();
  void BeginBindingBlock();
  /*! \brief The block begun last, with what was emitted into it. */
  BindingBlock EndBlock();
  bool CurrentBlockIsDataflow();
  /*! \brief Open a scope whose free variables are `params` (a function's parameters). */
  void BeginScope(const std::vector<Var>& params = {});
  void EndScope();

  /*! \brief The value `var` is bound to in the blocks this builder made; null when none. */
  Expr LookupBinding(const Var& var);
  /*! \brief Add `func` to the context module under a unique name derived from `name_hint`. */
  GlobalVar AddFunction(const BaseFunc& func, const std::string& name_hint);
  void UpdateFunction(const GlobalVar& gvar, const BaseFunc& func);
  /*! \brief The context module, with the functions added or updated. */
  IRModule GetContextIRModule();
  /*! \brief The context module after TVM's final normalization of global names. */
  IRModule Finalize();

  /*! \brief The `relax.BlockBuilder` object, for TVM functions that take one. */
  const tvm::ffi::ObjectRef& get() const { return builder_; }
  bool defined() const { return builder_.defined(); }

 private:
  tvm::ffi::ObjectRef builder_;
};

/*! \brief A type TVM's normalization fills in: what a new call is made with. */
Type MissingType();
/*! \brief Whether `ty` is null or the missing type. */
bool IsMissing(const Type& ty);
/*! \brief Structural equality of two types (or expressions), as tvm.ir.structural_equal. */
bool SameType(const Type& a, const Type& b);

/*! \brief The op registered as `name` (for example "relax.add"); an error names it if none. */
Op GetOp(const std::string& name);
/*! \brief A call of `op` with a missing type: normalizing it (BlockBuilder::Normalize, Emit, or
 *         returning it from an ExprMutator) infers its type with the op's own rule. */
Call MakeCall(const Op& op, const std::vector<Expr>& args, const Attrs& attrs = Attrs());
Call MakeCall(const std::string& op_name, const std::vector<Expr>& args,
              const Attrs& attrs = Attrs());

/*! \brief A scalar tensor constant, as `R.const(value, dtype)` (float16/32/64, int8/16/32/64,
 *         uint8, bool). */
Expr MakeConstant(double value, DLDataType dtype);
/*! \brief A Relax function of `params` returning `body` (wrapped in a SeqExpr when it is not
 *         one); its return type is `ret_ty`, or the body's when none is given. */
Function MakeFunction(const std::vector<Var>& params, const Expr& body, const Type& ret_ty = Type(),
                      bool is_pure = true);
/*! \brief `R.Tensor(shape, dtype)`: a tensor type of a static shape. */
TensorType MakeTensorType(const std::vector<int64_t>& shape, DLDataType dtype);
/*! \brief An empty attribute dictionary (what a function without attributes has). */
DictAttrs EmptyAttrs();

/*! \brief `var` with type `ty`: the same variable when its type is structurally `ty`, else a new
 *         one of the same kind (Var or DataflowVar) and name. */
Var WithType(const Var& var, const Type& ty);

/*! \brief The bindings of `block`, in order. */
std::vector<Binding> BindingsOf(const BindingBlock& block);
/*! \brief Every binding of `func`'s body, block by block (not those of nested functions or of
 *         the branches of an If). */
std::vector<Binding> BindingsOf(const Function& func);
/*! \brief Calls `fn(binding, block)` for every binding in `root`, nested functions and the
 *         branches of `If` included, in program order. */
void ForEachBinding(const Expr& root,
                    const std::function<void(const Binding&, const BindingBlock&)>& fn);
/*! \brief Variables (by identity) to what they are bound to. */
using VarMap = std::unordered_map<Var, Expr, tvm::ffi::ObjectPtrHash, tvm::ffi::ObjectPtrEqual>;
/*! \brief Each variable bound in `root` (by a VarBinding or MatchCast) with its value. */
VarMap VarBindings(const Expr& root);
/*! \brief The value `var` is bound to in `bindings`, following var-to-var bindings; `var`
 *         itself when it is not bound there (a parameter). */
Expr LookupBinding(const VarMap& bindings, const Var& var);
/*! \brief The value of a binding (a VarBinding's value or a MatchCast's). */
Expr BoundValue(const Binding& binding);

}  // namespace relax
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_RELAX_BLOCK_BUILDER_H_
