// Exercises TVM's pass infrastructure for kit passes: the analyzer (modular sets, proofs, the
// two simplifiers, int sets, constraint scopes), the analyzer-aware visitor and mutator,
// Substitute / UsesVar / ExprDeepEqual, builtin op handles, op attributes, DataType helpers,
// function attributes and GlobalFunction<Any(...)>.
#include <tvm/ffi/container/array.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/builtin.h>
#include <tvm_extend/ir/dtype.h>
#include <tvm_extend/ir/func_attr.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/mutator_with_analyzer.h>
#include <tvm_extend/ir/op_attr.h>
#include <tvm_extend/ir/substitute.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>

#include <string>
#include <utility>
#include <vector>

TVM_EXTEND_EXTENSION(infra_ext, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::ObjectRef;
using tvm_extend::ir::NodeRef;
namespace dtype = tvm_extend::ir::dtype;

template <typename T>
std::vector<T> ToVector(const Array<ObjectRef>& items) {
  std::vector<T> out;
  for (const ObjectRef& item : items) out.push_back(T(item));
  return out;
}

// --- 1. the analyzer ----------------------------------------------------------------------
Array<int64_t> ModularSetOf(ObjectRef expr) {
  ArithAnalyzer analyzer;
  ModularSet m = analyzer.ModularSetOf(Expr(expr));
  return {m.coeff(), m.base()};
}
bool CanProveEqual(ObjectRef a, ObjectRef b) {
  ArithAnalyzer analyzer;
  return analyzer.CanProveEqual(Expr(a), Expr(b));
}
ObjectRef RewriteSimplify(ObjectRef e) { return ArithAnalyzer().RewriteSimplify(Expr(e)); }
ObjectRef CanonicalSimplify(ObjectRef e) { return ArithAnalyzer().CanonicalSimplify(Expr(e)); }
// [min, max] of `expr` with vars[k] ranging over ranges[k].
Array<ObjectRef> EvalSet(ObjectRef expr, Array<ObjectRef> vars, Array<ObjectRef> ranges) {
  if (vars.size() != ranges.size()) {
    TVM_FFI_THROW(ValueError) << "eval_set: " << vars.size() << " vars but " << ranges.size()
                              << " ranges";
  }
  std::vector<std::pair<Var, Range>> dom;
  for (size_t i = 0; i < vars.size(); ++i) dom.emplace_back(Var(vars[i]), Range(ranges[i]));
  ArithAnalyzer analyzer;
  IntSetBounds set = analyzer.EvalSet(Expr(expr), dom);
  return {set.min, set.max};
}
// The modular set and bound of x: inside `x % 4 == 0`, inside that and `x < 10 && 0 <= x`,
// then after both scopes ended. [coeff, base, coeff, base, min, max, coeff, base]
Array<int64_t> ConstraintScopes(ObjectRef x_ref) {
  Var x(x_ref);
  ArithAnalyzer analyzer;
  Array<int64_t> out;
  {
    auto outer = analyzer.Constrain(floormod(x, 4) == 0);
    ModularSet m = analyzer.ModularSetOf(x);
    out.push_back(m.coeff());
    out.push_back(m.base());
    {
      auto inner = analyzer.Constrain(x < 10 && 0 <= x);
      ModularSet m2 = analyzer.ModularSetOf(x);
      ConstIntBound b = analyzer.Bound(x);
      out.push_back(m2.coeff());
      out.push_back(m2.base());
      out.push_back(b.min_value());
      out.push_back(b.max_value());
    }
  }
  ModularSet after = analyzer.ModularSetOf(x);
  out.push_back(after.coeff());
  out.push_back(after.base());
  return out;
}
// A scope moved out of its block stays in force until its new owner ends it.
Array<bool> MovedScope(ObjectRef x_ref) {
  Var x(x_ref);
  ArithAnalyzer analyzer;
  ConstraintScope kept;
  {
    auto scope = analyzer.Constrain(x > 5);
    kept = std::move(scope);
  }
  bool while_kept = analyzer.CanProve(x > 3);
  kept.Exit();
  bool after = analyzer.CanProve(x > 3);
  return {while_kept, after};
}

// Enters a constraint and leaves it again.
bool ConstrainOnce(ObjectRef cond) {
  ArithAnalyzer analyzer;
  auto scope = analyzer.Constrain(Expr(cond));
  return true;
}

// --- 2. the analyzer-aware mutator and visitor ---------------------------------------------
// The base mutator: binds, constrains and folds known conditions, nothing else.
ObjectRef MutateWithAnalyzer(ObjectRef func) {
  PrimFunc f(func);
  ArithAnalyzer analyzer;
  Stmt body = IRMutatorWithAnalyzer(&analyzer).VisitStmt(f.body());
  return body.same_as(f.body()) ? func : ObjectRef(f.with_body(body));
}
// A small Simplify: every scalar expression simplified under what the analyzer knows there.
class SimplifyAll : public IRMutatorWithAnalyzer {
 public:
  using IRMutatorWithAnalyzer::IRMutatorWithAnalyzer;
  Expr VisitExpr(const Expr& e) override {
    Expr out = IRMutatorWithAnalyzer::VisitExpr(e);
    if (!out.defined() || !out.ty().as<PrimType>().defined() || out.as<Var>().defined()) {
      return out;
    }
    return analyzer_->Simplify(out);
  }
};
ObjectRef SimplifyWithAnalyzer(ObjectRef func) {
  PrimFunc f(func);
  ArithAnalyzer analyzer;
  return f.with_body(SimplifyAll(&analyzer).VisitStmt(f.body()));
}
// The same as a PrimFunc pass, for TVM's pipeline.
ObjectRef SimplifyPass(ObjectRef func, ObjectRef, ObjectRef) { return SimplifyWithAnalyzer(func); }
// At each store, the constant bound of its first index: [[min, max], ...] in program order.
Array<Array<int64_t>> StoreIndexBounds(ObjectRef func) {
  struct Recorder : IRVisitorWithAnalyzer {
    using IRVisitorWithAnalyzer::IRVisitorWithAnalyzer;
    Array<Array<int64_t>> bounds;
    void VisitStmt_(const BufferStore& op) override {
      ConstIntBound b = analyzer_->Bound(op.indices()[0]);
      bounds.push_back({b.min_value(), b.max_value()});
      IRVisitorWithAnalyzer::VisitStmt_(op);
    }
  };
  ArithAnalyzer analyzer;
  Recorder recorder(&analyzer);
  recorder.VisitStmt(PrimFunc(func).body());
  return recorder.bounds;
}

// --- 3. Substitute, UsesVar, ExprDeepEqual ---------------------------------------------------
VarExprMap ToMap(const Array<ObjectRef>& vars, const Array<ObjectRef>& values) {
  VarExprMap vmap;
  for (size_t i = 0; i < vars.size() && i < values.size(); ++i) {
    vmap[Var(vars[i])] = Expr(values[i]);
  }
  return vmap;
}
ObjectRef SubstituteVars(ObjectRef node, Array<ObjectRef> vars, Array<ObjectRef> values) {
  VarExprMap vmap = ToMap(vars, values);
  if (Stmt::IsInstance(node)) return Substitute(Stmt(node), vmap);
  if (PrimFunc::IsInstance(node)) {
    PrimFunc f(node);
    return f.with_body(Substitute(f.body(), vmap));
  }
  return Substitute(Expr(node), vmap);  // a TypeError naming the type when not an Expr
}
bool UsesVars(ObjectRef node, Array<ObjectRef> vars) {
  VarSet set;
  for (const ObjectRef& v : vars) set.insert(Var(v));
  if (Stmt::IsInstance(node)) return UsesVar(Stmt(node), set);
  if (vars.size() == 1) return UsesVar(Expr(node), Var(vars[0]));
  return UsesVar(Expr(node), set);
}
bool DeepEqual(ObjectRef a, ObjectRef b) { return ExprDeepEqual(Expr(a), Expr(b)); }

// --- 4. builtin ops -------------------------------------------------------------------------
ObjectRef MakeBuiltinCall(DLDataType type, tvm::ffi::String name, Array<ObjectRef> args) {
  return MakeCall(type, GetOp(std::string(name)), ToVector<Expr>(args));
}
ObjectRef MakeLikely(ObjectRef cond) {
  Expr c(cond);
  return MakeCall(c.ty().as<PrimType>().dtype(), builtin::likely(), {c});
}
// Which of the kit's builtin handles `expr` calls ("" for none).
tvm::ffi::String WhichBuiltin(ObjectRef expr) {
  Expr e(expr);
  const std::vector<std::pair<const char*, const Op*>> handles{
      {"if_then_else", &builtin::if_then_else()},
      {"likely", &builtin::likely()},
      {"reinterpret", &builtin::reinterpret()},
      {"call_extern", &builtin::call_extern()},
      {"assume", &builtin::assume()},
      {"popcount", &builtin::popcount()}};
  for (const auto& [name, op] : handles) {
    if (IsOp(e, *op)) return name;
  }
  return "";
}
ObjectRef OpNamed(Array<tvm::ffi::String> names) {
  if (names.size() == 1) return GetOp(std::string(names[0]));
  if (names.size() != 2) TVM_FFI_THROW(ValueError) << "one or two names";
  return GetOp({names[0].c_str(), names[1].c_str()});
}

// --- 5. op attributes ------------------------------------------------------------------------
Any OpAttr(tvm::ffi::String op_name, tvm::ffi::String key) {
  return GetOpAttr(GetOp(std::string(op_name)), key);
}
int64_t OpIntAttr(tvm::ffi::String op_name, tvm::ffi::String key) {
  return GetOpIntAttr(GetOp(std::string(op_name)), key).value_or(-1);
}
int64_t SideEffectOf(ObjectRef expr) { return static_cast<int64_t>(SideEffect(Expr(expr))); }

// --- 6. DataType ------------------------------------------------------------------------------
tvm::ffi::Map<tvm::ffi::String, Any> DtypeInfo(DLDataType t) {
  return {{"bits", dtype::bits(t)},
          {"lanes", dtype::lanes(t)},
          {"bytes", dtype::bytes(t)},
          {"is_int", dtype::is_int(t)},
          {"is_uint", dtype::is_uint(t)},
          {"is_float", dtype::is_float(t)},
          {"is_bool", dtype::is_bool(t)},
          {"is_handle", dtype::is_handle(t)},
          {"is_vector", dtype::is_vector(t)},
          {"is_scalar", dtype::is_scalar(t)},
          {"name", tvm::ffi::String(dtype::name(t))},
          {"element_of", tvm::ffi::String(dtype::name(dtype::element_of(t)))},
          {"with_lanes_4", tvm::ffi::String(dtype::name(dtype::with_lanes(t, 4)))},
          {"with_bits_16", tvm::ffi::String(dtype::name(dtype::with_bits(t, 16)))}};
}
tvm::ffi::String DtypeRoundTrip(tvm::ffi::String name) {
  return dtype::name(dtype::parse(std::string(name)));
}

// --- 7. function attributes -----------------------------------------------------------------
// [the function with key=value, whether the original still lacks/keeps its old value]
Array<Any> WithFuncAttr(ObjectRef func, tvm::ffi::String key, Any value) {
  PrimFunc f(func);
  Any before = GetAttr(f, key);
  PrimFunc g = WithAttr(f, key, value);
  Any after = GetAttr(f, key);
  bool unchanged = (before == nullptr && after == nullptr) ||
                   (before != nullptr && after != nullptr && before.same_as(after));
  return {g, unchanged};
}
ObjectRef WithoutFuncAttr(ObjectRef func, tvm::ffi::String key) {
  return WithoutAttr(PrimFunc(func), key);
}
Any GetFuncAttr(ObjectRef func, tvm::ffi::String key) { return GetAttr(BaseFunc(func), key); }
int64_t GetFuncIntAttr(ObjectRef func, tvm::ffi::String key) {
  return GetAttr<int64_t>(BaseFunc(func), key).value_or(-1);
}

// --- 8. GlobalFunction<Any(...)> ------------------------------------------------------------
// TVM declares a sym.ModularSet result; a handle typed Any takes it whatever it is.
Any AnyReturn(ObjectRef expr) {
  static tvm_extend::ir::GlobalFunction<Any(Analyzer, Expr)> modular{"sym.AnalyzerModularSet"};
  return modular(ArithAnalyzer().object(), Expr(expr));
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("infra_ext.modular_set", ModularSetOf);
TVM_EXTEND_REGISTER_FUNC("infra_ext.can_prove_equal", CanProveEqual);
TVM_EXTEND_REGISTER_FUNC("infra_ext.rewrite_simplify", RewriteSimplify);
TVM_EXTEND_REGISTER_FUNC("infra_ext.canonical_simplify", CanonicalSimplify);
TVM_EXTEND_REGISTER_FUNC("infra_ext.eval_set", EvalSet);
TVM_EXTEND_REGISTER_FUNC("infra_ext.constraint_scopes", ConstraintScopes);
TVM_EXTEND_REGISTER_FUNC("infra_ext.moved_scope", MovedScope);
TVM_EXTEND_REGISTER_FUNC("infra_ext.constrain_once", ConstrainOnce);
TVM_EXTEND_REGISTER_FUNC("infra_ext.mutate_with_analyzer", MutateWithAnalyzer);
TVM_EXTEND_REGISTER_FUNC("infra_ext.simplify_with_analyzer", SimplifyWithAnalyzer);
TVM_EXTEND_REGISTER_FUNC("infra_ext.store_index_bounds", StoreIndexBounds);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("infra_ext.transform.SimplifyWithAnalyzer", SimplifyPass, 0);
TVM_EXTEND_REGISTER_FUNC("infra_ext.substitute", SubstituteVars);
TVM_EXTEND_REGISTER_FUNC("infra_ext.uses_var", UsesVars);
TVM_EXTEND_REGISTER_FUNC("infra_ext.expr_deep_equal", DeepEqual);
TVM_EXTEND_REGISTER_FUNC("infra_ext.make_call", MakeBuiltinCall);
TVM_EXTEND_REGISTER_FUNC("infra_ext.make_likely", MakeLikely);
TVM_EXTEND_REGISTER_FUNC("infra_ext.which_builtin", WhichBuiltin);
TVM_EXTEND_REGISTER_FUNC("infra_ext.get_op", OpNamed);
TVM_EXTEND_REGISTER_FUNC("infra_ext.op_attr", OpAttr);
TVM_EXTEND_REGISTER_FUNC("infra_ext.op_int_attr", OpIntAttr);
TVM_EXTEND_REGISTER_FUNC("infra_ext.side_effect", SideEffectOf);
TVM_EXTEND_REGISTER_FUNC("infra_ext.dtype_info", DtypeInfo);
TVM_EXTEND_REGISTER_FUNC("infra_ext.dtype_round_trip", DtypeRoundTrip);
TVM_EXTEND_REGISTER_FUNC("infra_ext.with_attr", WithFuncAttr);
TVM_EXTEND_REGISTER_FUNC("infra_ext.without_attr", WithoutFuncAttr);
TVM_EXTEND_REGISTER_FUNC("infra_ext.get_attr", GetFuncAttr);
TVM_EXTEND_REGISTER_FUNC("infra_ext.get_int_attr", GetFuncIntAttr);
TVM_EXTEND_REGISTER_FUNC("infra_ext.any_return", AnyReturn);
