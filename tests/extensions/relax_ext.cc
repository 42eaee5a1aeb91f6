// Relax passes written with the generated Relax views (tests/python/test_relax_views.py,
// test_relax_passes.py): a function pass, a dataflow-block pass and a module pass, a rewrite
// that changes types, the visitor, the BlockBuilder and the binding helpers; and passes that
// fail. It includes the TIR and the Relax views in one translation unit: the shared `ir.*`
// types are defined once.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/func_attr.h>
#include <tvm_extend/ir/relax.h>
#include <tvm_extend/ir/relax_block_builder.h>
#include <tvm_extend/ir/relax_functor.h>
#include <tvm_extend/ir/tir.h>

#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

TVM_EXTEND_EXTENSION(relax_ext, "1.0.0");

// One class per `ir.*` type, whichever family names it.
static_assert(std::is_same_v<tvm_extend::tir::Call, tvm_extend::relax::Call>);
static_assert(std::is_same_v<tvm_extend::tir::Var, tvm_extend::relax::Var>);
static_assert(std::is_same_v<tvm_extend::tir::IRModule, tvm_extend::ir::IRModule>);
// relax.FuncType is Relax's own; ir.FuncType stays reachable.
static_assert(!std::is_same_v<tvm_extend::relax::FuncType, tvm_extend::ir::FuncType>);

namespace {
using namespace tvm_extend::relax;  // NOLINT(build/namespaces)
using tvm::ffi::ObjectRef;

DLDataType DTypeOf(const Expr& e) {
  TensorType t = e.ty().as<TensorType>();
  if (!t.defined() || !t.dtype().defined()) {
    TVM_FFI_THROW(TypeError) << "expected a tensor of known dtype, got " << e.ty().type_key();
  }
  return t.dtype().dtype();
}

// R.add(x, x) -> R.multiply(x, R.const(2, dtype)).
class AddSelfToMultiply : public ExprMutator {
 public:
  using ExprMutator::ExprMutator;
  Expr VisitExpr_(const Call& call) override {
    Call c = VisitChildren(call);
    if (IsOp(c, "relax.add") && c.args()[0].same_as(c.args()[1])) {
      Expr x = c.args()[0];
      return MakeCall("relax.multiply", {x, MakeConstant(2, DTypeOf(x))});
    }
    return c;
  }
};

ObjectRef AddSelfToMultiplyPass(ObjectRef func, ObjectRef mod, ObjectRef) {
  return AddSelfToMultiply(IRModule(mod)).Rewrite(Function(func));
}
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("relax_ext.transform.AddSelfToMultiply",
                                        AddSelfToMultiplyPass, 0);

// Every float32 R.add computes in float16: R.add(a, b) -> R.add(astype(a), astype(b)). The
// result, every use after it and the function's return type become float16.
tvm_extend::ir::GlobalFunction<Expr(Expr, DLDataType)> astype{"relax.op.astype"};

class DemoteAdd : public ExprMutator {
 public:
  using ExprMutator::ExprMutator;
  Expr VisitExpr_(const Call& call) override {
    Call c = VisitChildren(call);
    if (!IsOp(c, "relax.add")) return c;
    std::vector<Expr> args;
    bool changed = false;
    for (Expr a : c.args()) {
      DLDataType t = DTypeOf(a);
      bool demote = t.code == kDLFloat && t.bits == 32;
      args.push_back(demote ? astype(a, DLDataType{kDLFloat, 16, 1}) : a);
      changed = changed || demote;
    }
    return changed ? Expr(MakeCall("relax.add", args)) : Expr(c);
  }
};

ObjectRef DemoteAddPass(ObjectRef func, ObjectRef mod, ObjectRef) {
  return DemoteAdd(IRModule(mod)).Rewrite(Function(func));
}
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("relax_ext.transform.DemoteAddToFloat16", DemoteAddPass, 0);

// A dataflow-block pass: R.negative(R.negative(x)) -> x.
class FoldDoubleNegate : public ExprMutator {
 public:
  using ExprMutator::ExprMutator;
  void VisitBinding_(const VarBinding& binding) override {
    Expr value = VisitExpr(binding.value());
    if (IsOp(value, "relax.negative")) {
      Expr inner = Call(value).args()[0];
      Expr bound = Var::IsInstance(inner) ? LookupBinding(Var(inner)) : Expr();
      if (bound.defined() && IsOp(bound, "relax.negative")) value = Call(bound).args()[0];
    }
    ReEmitBinding(binding, value);
  }
};

ObjectRef FoldDoubleNegatePass(ObjectRef block, ObjectRef mod, ObjectRef) {
  return FoldDoubleNegate(IRModule(mod)).VisitBindingBlock(BindingBlock(block));
}
TVM_EXTEND_REGISTER_DATAFLOW_BLOCK_PASS("relax_ext.transform.FoldDoubleNegate",
                                        FoldDoubleNegatePass, 0);

// A module pass: every Relax function gets the attribute "relax_ext.num_bindings", and
// AddSelfToMultiply runs on it.
ObjectRef TagAndRewritePass(ObjectRef mod_ref, ObjectRef) {
  IRModule mod(mod_ref);
  BlockBuilder bb = BlockBuilder::Create(mod);
  for (auto kv : mod.functions()) {
    GlobalVar gv(kv.first.cast<ObjectRef>());
    ObjectRef func = kv.second.cast<ObjectRef>();
    if (!Function::IsInstance(func)) continue;
    Function f = AddSelfToMultiply(mod).Rewrite(Function(func));
    int64_t n = static_cast<int64_t>(BindingsOf(f).size());
    bb.UpdateFunction(gv, tvm_extend::tir::WithAttr(f, "relax_ext.num_bindings", n));
  }
  return bb.GetContextIRModule();
}
TVM_EXTEND_REGISTER_MODULE_PASS("relax_ext.transform.TagAndRewrite", TagAndRewritePass, 0);

// Failing passes, for the errors.
ObjectRef ThrowingPass(ObjectRef, ObjectRef, ObjectRef) {
  throw std::runtime_error("the rewrite met something it cannot handle");
}
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("relax_ext.transform.Throws", ThrowingPass, 0);
ObjectRef WrongResultPass(ObjectRef, ObjectRef mod, ObjectRef) { return mod; }
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("relax_ext.transform.ReturnsModule", WrongResultPass, 0);
ObjectRef ThrowingModulePass(ObjectRef, ObjectRef) {
  TVM_FFI_THROW(ValueError) << "no main function";
}
TVM_EXTEND_REGISTER_MODULE_PASS("relax_ext.transform.ModuleThrows", ThrowingModulePass, 0);

// The visitor: op name -> number of calls, and the variables defined.
class CallCounter : public ExprVisitor {
 public:
  void VisitExpr_(const Call& call) override {
    Expr op = call.op();
    if (Op::IsInstance(op)) ++counts[std::string(Op(op).name())];
    ExprVisitor::VisitExpr_(call);
  }
  void VisitVarDef(const Var& var) override { defs.push_back(std::string(var.name())); }
  std::map<std::string, int64_t> counts;
  std::vector<std::string> defs;
};

tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> CountCalls(ObjectRef func) {
  CallCounter counter;
  counter.VisitExpr(Function(func));
  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> out;
  for (const auto& [name, n] : counter.counts) out.Set(name, n);
  tvm::ffi::Array<tvm::ffi::String> defs;
  for (const std::string& d : counter.defs) defs.push_back(d);
  out.Set("defs", defs);
  return out;
}
TVM_EXTEND_REGISTER_FUNC("relax_ext.count_calls", CountCalls);

// The binding helpers: the value bound to the variable named `name` (through aliases), and the
// bindings of the body in order.
ObjectRef BoundValueOf(ObjectRef func, tvm::ffi::String name) {
  Function f(func);
  VarMap bindings = VarBindings(f);
  for (const auto& [var, value] : bindings) {
    if (var.name() == name) return LookupBinding(bindings, var);
  }
  TVM_FFI_THROW(KeyError) << "no variable " << name;
}
TVM_EXTEND_REGISTER_FUNC("relax_ext.bound_value", BoundValueOf);

tvm::ffi::Array<tvm::ffi::String> BindingNames(ObjectRef func) {
  tvm::ffi::Array<tvm::ffi::String> out;
  ForEachBinding(Function(func), [&out](const Binding& b, const BindingBlock& block) {
    out.push_back(std::string(DataflowBlock::IsInstance(block) ? "df:" : "") +
                  std::string(b.var().name()));
  });
  return out;
}
TVM_EXTEND_REGISTER_FUNC("relax_ext.binding_names", BindingNames);

// The BlockBuilder from C++: main(x: R.Tensor((4,), "float32")) with a dataflow block
//   y = R.add(x, x); z = R.multiply(y, R.const(3, "float32")) (output); return z
ObjectRef BuildFunction() {
  DLDataType f32{kDLFloat, 32, 1};
  Var x = Var::Make("x", MakeTensorType({4}, f32));
  BlockBuilder bb = BlockBuilder::Create();
  bb.BeginScope({x});
  bb.BeginDataflowBlock();
  Var y = bb.Emit(MakeCall("relax.add", {x, x}), "y");
  Var z = bb.EmitOutput(MakeCall("relax.multiply", {y, MakeConstant(3, f32)}), "z");
  BindingBlock block = bb.EndBlock();
  bb.EndScope();
  return MakeFunction(
      {x}, SeqExpr::Make(tvm_extend::ir::List<BindingBlock>(tvm::ffi::Array<ObjectRef>{block}), z));
}
TVM_EXTEND_REGISTER_FUNC("relax_ext.build_function", BuildFunction);

// A mutator that changes nothing hands back the very same function.
bool IdentityKeepsObjects(ObjectRef func) {
  ExprMutator mutator;
  return mutator.Rewrite(Function(func)).same_as(func);
}
TVM_EXTEND_REGISTER_FUNC("relax_ext.identity_same", IdentityKeepsObjects);

// The type of the value bound to `name`, as inferred (for the struct info checks).
ObjectRef TypeOfBinding(ObjectRef func, tvm::ffi::String name) {
  for (Binding b : BindingsOf(Function(func))) {
    if (b.var().name() == name) return b.var().ty();
  }
  TVM_FFI_THROW(KeyError) << "no binding " << name;
}
TVM_EXTEND_REGISTER_FUNC("relax_ext.type_of_binding", TypeOfBinding);

}  // namespace
