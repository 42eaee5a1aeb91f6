/*!
 * \file tvm_extend/ir/relax_functor.h
 * \brief A visitor and a mutator of Relax expressions, on the generated views.
 *
 * The mutator keeps types right the way TVM's own does: every expression it returns goes through
 * TVM's BlockBuilder (`relax.BlockBuilderNormalize`), so a call that a rewrite made (with a
 * missing type, MakeCall) gets the type its op infers; bindings are re-emitted into new blocks
 * of the builder; and when a binding's value changes type, its variable is replaced by a new
 * one of the new type, and every later use of the old variable by the new one.
 *
 * \code
 * class AddToMultiply : public ExprMutator {
 *   Expr VisitExpr_(const Call& call) override {
 *     Call c = VisitChildren(call);
 *     if (IsOp(c, "relax.add") && c.args()[0].same_as(c.args()[1]))
 *       return MakeCall("relax.multiply", {c.args()[0], two_});
 *     return c;
 *   }
 * };
 * Function rewritten = AddToMultiply().Rewrite(func);
 * \endcode
 *
 * Expressions the functors do not know (constants, PrimExprs, strings, a type a newer TVM adds)
 * go to VisitExprDefault_: left as they are. Needs the generated <tvm_extend/ir/relax.h>; the
 * bodies are compiled once per build folder (tvm_extend/ir/relax_functor.cc).
 */
#ifndef TVM_EXTEND_IR_RELAX_FUNCTOR_H_
#define TVM_EXTEND_IR_RELAX_FUNCTOR_H_

#include <tvm/ffi/object.h>
#include <tvm_extend/ir/relax.h>
#include <tvm_extend/ir/relax_block_builder.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace tvm_extend {
namespace relax {

/*! \brief Whether `expr` is a call of the op named `op_name` (e.g. "relax.add"). */
bool IsOp(const Expr& expr, const char* op_name);

/*! \brief Walks a Relax expression: functions, sequences and their blocks and bindings,
 *         branches, calls, tuples and shapes. Override the VisitExpr_ / VisitBinding_ overloads;
 *         call the base version to go on below. */
class ExprVisitor {
 public:
  virtual ~ExprVisitor();
  virtual void VisitExpr(const Expr& expr);
  virtual void VisitExpr_(const Function& op);
  virtual void VisitExpr_(const SeqExpr& op);
  virtual void VisitExpr_(const If& op);
  virtual void VisitExpr_(const Call& op);
  virtual void VisitExpr_(const Tuple& op);
  virtual void VisitExpr_(const TupleGetItem& op);
  virtual void VisitExpr_(const ShapeExpr& op);
  /*! \brief A use of a variable (a Var or a DataflowVar). */
  virtual void VisitExpr_(const Var& op);
  virtual void VisitExpr_(const GlobalVar& op);
  virtual void VisitExpr_(const Op& op);
  virtual void VisitExpr_(const ExternFunc& op);
  /*! \brief Anything else: constants, PrimExprs (a `R.prim_value`), strings. */
  virtual void VisitExprDefault_(const Expr& op);

  virtual void VisitBindingBlock(const BindingBlock& block);
  virtual void VisitBindingBlock_(const BindingBlock& block);
  virtual void VisitBindingBlock_(const DataflowBlock& block);
  virtual void VisitBinding(const Binding& binding);
  virtual void VisitBinding_(const VarBinding& binding);
  virtual void VisitBinding_(const MatchCast& binding);
  /*! \brief The definition of a variable: a binding's or a function's parameter. */
  virtual void VisitVarDef(const Var& var);
};

/*!
 * \brief Rebuilds a Relax expression bottom-up through TVM's BlockBuilder; see the file comment.
 *        An expression whose children did not change is returned as the same object.
 */
class ExprMutator {
 public:
  /*! \brief `context`: the module the expression is in, for the builder (global variables of
   *         the new code resolve through it). */
  explicit ExprMutator(const IRModule& context = IRModule());
  virtual ~ExprMutator();

  /*! \brief `func` rewritten; the same function when nothing changed. */
  Function Rewrite(const Function& func);

  /*! \brief The rewritten, normalized `expr`. */
  virtual Expr VisitExpr(const Expr& expr);
  virtual Expr VisitExpr_(const Function& op);
  virtual Expr VisitExpr_(const SeqExpr& op);
  virtual Expr VisitExpr_(const If& op);
  virtual Expr VisitExpr_(const Call& op);
  virtual Expr VisitExpr_(const Tuple& op);
  virtual Expr VisitExpr_(const TupleGetItem& op);
  virtual Expr VisitExpr_(const ShapeExpr& op);
  /*! \brief A use of a variable: its replacement, if a binding changed it. */
  virtual Expr VisitExpr_(const Var& op);
  virtual Expr VisitExpr_(const GlobalVar& op);
  virtual Expr VisitExpr_(const Op& op);
  virtual Expr VisitExpr_(const ExternFunc& op);
  virtual Expr VisitExprDefault_(const Expr& op);

  /*! \brief The block rebuilt: a new block of the builder holding the re-emitted bindings. */
  virtual BindingBlock VisitBindingBlock(const BindingBlock& block);
  virtual BindingBlock VisitBindingBlock_(const BindingBlock& block);
  virtual BindingBlock VisitBindingBlock_(const DataflowBlock& block);
  /*! \brief Re-emit `binding` into the builder's current block (rewritten). */
  virtual void VisitBinding(const Binding& binding);
  virtual void VisitBinding_(const VarBinding& binding);
  virtual void VisitBinding_(const MatchCast& binding);
  /*! \brief The definition of a variable; by default itself. A new variable returned here
   *         replaces the old one in every later use. */
  virtual Var VisitVarDef(const Var& var);

  /*! \brief The children of `op` visited, and `op` rebuilt (with a missing type, so that
   *         normalization infers it) when one changed; `op` itself otherwise. */
  Call VisitChildren(const Call& op);
  Tuple VisitChildren(const Tuple& op);
  TupleGetItem VisitChildren(const TupleGetItem& op);

  /*! \brief Emit `binding` for a value that became `new_value`: kept as it is when nothing
   *         changed; else bound to `binding`'s variable, or to a new variable of the new type
   *         when the type changed (later uses of the old variable then use the new one). */
  void ReEmitBinding(const VarBinding& binding, const Expr& new_value);
  /*! \brief `expr` visited in a scope of its own (a function body, a branch): what it emits
   *         goes into a new SeqExpr around it. */
  Expr VisitWithNewScope(const Expr& expr, const std::vector<Var>& params = {});

  /*! \brief Replace every later use of `from` by `to`. */
  void RemapVar(const Var& from, const Var& to);
  /*! \brief The value `var` is bound to in what this mutator emitted so far, or in the input
   *         (see VarBindings); null when none. */
  Expr LookupBinding(const Var& var);

  BlockBuilder& builder() { return builder_; }

 protected:
  BlockBuilder builder_;
  std::unordered_map<Var, Var, tvm::ffi::ObjectPtrHash, tvm::ffi::ObjectPtrEqual> var_remap_;
};

}  // namespace relax
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_RELAX_FUNCTOR_H_
