// Exercises <tvm_extend/ir/relax_pattern.h>: patterns built in C++ (compared with the same
// patterns built in Python), RewriteCall, RewriteBindings, PatternMatchingRewriter as a pass,
// and the failures: a throwing callback, a result TVM's type inference refuses, a result that
// is not well-formed.
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/container/shape.h>
#include <tvm/ffi/container/tensor.h>
#include <tvm/ffi/reflection/accessor.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/relax_pattern.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

TVM_EXTEND_EXTENSION(patterns_ext, "1.0.0");

namespace {
using namespace tvm_extend::relax::dpl;  // NOLINT(build/namespaces)
using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::Map;
using tvm::ffi::ObjectRef;
using tvm::ffi::String;

// --- Relax expressions, through TVM's registered constructors -------------------------------
template <typename Signature>
using Global = tvm_extend::ir::GlobalFunction<Signature>;
Global<ObjectRef(ObjectRef, ObjectRef)> add{"relax.op.add"};
Global<ObjectRef(ObjectRef, ObjectRef)> multiply{"relax.op.multiply"};
Global<ObjectRef(ObjectRef, ObjectRef, Any)> matmul{"relax.op.matmul"};
Global<ObjectRef(ObjectRef, String)> einsum{"relax.op.einsum"};
Global<ObjectRef(ObjectRef, Any)> concat{"relax.op.concat"};
Global<ObjectRef(ObjectRef, ObjectRef, int64_t)> split{"relax.op.split"};
Global<ObjectRef(Array<ObjectRef>, ObjectRef)> make_tuple{"relax.Tuple"};
Global<ObjectRef(ObjectRef, int64_t, ObjectRef)> tuple_get_item{"relax.TupleGetItem"};
Global<ObjectRef(String, Any, ObjectRef)> make_var{"ir.Var"};
Global<ObjectRef(DLDataType, int64_t, ObjectRef)> int_imm{"ir.IntImm"};
Global<tvm::ffi::Tensor(tvm::ffi::Shape, DLDataType, DLDevice, Any)> alloc_tensor{
    "runtime.TVMTensorAllocWithScope"};

// The type of a relax expression (`expr.ty`), its dtype and rank.
ObjectRef TypeOf(const ObjectRef& expr) {
  static const tvm::ffi::reflection::FieldGetter ty("ir.Expr", "ty");
  return ty(expr).cast<ObjectRef>();
}
bool IsTensor(const ObjectRef& ty) {
  return ty.defined() && std::string(ty->GetTypeKey()) == "relax.TensorType";
}
int64_t NDim(const ObjectRef& expr) {
  static const tvm::ffi::reflection::FieldGetter ndim("relax.TensorType", "ndim");
  ObjectRef ty = TypeOf(expr);
  return IsTensor(ty) ? ndim(ty).cast<int64_t>() : -1;
}
DLDataType DtypeOf(const ObjectRef& expr) {
  static const tvm::ffi::reflection::FieldGetter dtype("relax.TensorType", "dtype");
  static const tvm::ffi::reflection::FieldGetter prim("ir.PrimType", "dtype");
  ObjectRef ty = TypeOf(expr);
  if (!IsTensor(ty)) TVM_FFI_THROW(TypeError) << "expected a tensor, got " << ty->GetTypeKey();
  return prim(dtype(ty).cast<ObjectRef>()).cast<DLDataType>();
}

// A scalar constant of `dtype`: `R.const(value, dtype)`. TVM 0.27 makes it with
// relax.MakeTensorConst, 0.26 with relax.Constant (same arguments).
ObjectRef ScalarConst(double value, DLDataType dtype) {
  tvm::ffi::Tensor data =
      alloc_tensor(tvm::ffi::Shape(std::vector<int64_t>{}), dtype, DLDevice{kDLCPU, 0}, Any());
  if (dtype.code == kDLFloat && dtype.bits == 32) {
    *static_cast<float*>(data.data_ptr()) = static_cast<float>(value);
  } else if (dtype.code == kDLFloat && dtype.bits == 64) {
    *static_cast<double*>(data.data_ptr()) = value;
  } else if (dtype.code == kDLInt && dtype.bits == 32) {
    *static_cast<int32_t*>(data.data_ptr()) = static_cast<int32_t>(value);
  } else if (dtype.code == kDLInt && dtype.bits == 64) {
    *static_cast<int64_t*>(data.data_ptr()) = static_cast<int64_t>(value);
  } else {
    TVM_FFI_THROW(TypeError) << "ScalarConst: unsupported dtype " << dtype;
  }
  static const tvm::ffi::Function make = [] {
    for (const char* name : {"relax.MakeTensorConst", "relax.Constant"}) {
      if (auto f = tvm_extend::abi::FindGlobal(name)) return *f;
    }
    TVM_FFI_THROW(RuntimeError) << "the running TVM has no relax constant constructor";
    TVM_FFI_UNREACHABLE();
  }();
  return make(data, Any(), ObjectRef()).cast<ObjectRef>();
}

// --- 1. rewrites ---------------------------------------------------------------------------

// matmul(x, permute_dims(w)) with x, w two-dimensional and the permutation a transpose ->
// einsum("mk,nk->mn", x, w): one op instead of two, no transposed copy of w.
ObjectRef FuseTransposeMatmul(ObjectRef func) {
  DFPattern x = Wildcard(), w = Wildcard();
  DFPattern transpose = IsOp("relax.permute_dims")(w);
  DFPattern pattern =
      IsOp("relax.matmul")(x, transpose.HasAttr({{"axes", Any()}}) |
                                  transpose.HasAttr({{"axes", Array<int64_t>{1, 0}}}));
  return RewriteCall(pattern,
                     [&](const ObjectRef& matched, const MatchMap& m) -> ObjectRef {
                       if (NDim(m[x]) != 2 || NDim(m[w]) != 2) return matched;  // left as it is
                       return einsum(make_tuple({m[x], m[w]}, ObjectRef()), "mk,nk->mn");
                     },
                     func, {"fuse_transpose_matmul"});
}

// add(x, x) -> multiply(x, 2)
ObjectRef AddToMultiply(ObjectRef func) {
  DFPattern x = Wildcard();
  return RewriteCall(IsOp("relax.add")(x, x),
                     [&](const ObjectRef&, const MatchMap& m) {
                       return multiply(m[x], ScalarConst(2, DtypeOf(m[x])));
                     },
                     func, {"add_to_multiply"});
}

// Three matmuls of one input in a dataflow block -> one matmul with the weights concatenated,
// split into the three results (TVM's QKV example).
ObjectRef MergeMatmuls(ObjectRef func) {
  PatternContext context = PatternContext::Make();
  DFPattern input, weights[3], matmuls[3];
  {
    auto scope = context.Enter();
    input = Wildcard();
    for (int i = 0; i < 3; ++i) {
      weights[i] = Wildcard();
      matmuls[i] = IsOp("relax.matmul")(input, weights[i]);
    }
  }
  return RewriteBindings(
      context,
      [&](const MatchMap& m, const Bindings&) {
        ObjectRef all = make_tuple({m[weights[0]], m[weights[1]], m[weights[2]]}, ObjectRef());
        ObjectRef product = matmul(m[input], concat(all, int64_t{1}), Any());
        ObjectRef parts =
            split(product, int_imm(DLDataType{kDLInt, 64, 1}, 3, ObjectRef()), /*axis=*/1);
        Bindings rewrites;
        for (int i = 0; i < 3; ++i) rewrites.Set(m[matmuls[i]], tuple_get_item(parts, i, {}));
        return rewrites;
      },
      func, {"merge_matmuls"});
}

// --- 2. rewrites that go wrong -------------------------------------------------------------

// add(x, y) -> multiply(x, ghost), with `ghost` bound nowhere: not well-formed.
ObjectRef UnboundVar(ObjectRef func) {
  DFPattern x = Wildcard(), y = Wildcard();
  return RewriteCall(IsOp("relax.add")(x, y),
                     [&](const ObjectRef&, const MatchMap& m) {
                       ObjectRef ghost = make_var("ghost", TypeOf(m[y]), ObjectRef());
                       return multiply(m[x], ghost);
                     },
                     func, {"unbound_var"});
}

// The callback throws: a std::exception, a tvm-ffi error, or something else.
ObjectRef Throwing(ObjectRef func, int64_t kind) {
  DFPattern x = Wildcard();
  return RewriteCall(IsOp("relax.add")(x, x),
                     [&](const ObjectRef& matched, const MatchMap&) -> ObjectRef {
                       if (kind == 0) throw std::runtime_error("no replacement for this add");
                       if (kind == 1) TVM_FFI_THROW(ValueError) << "the weights are not packed";
                       if (kind == 2) throw 42;
                       return matched;
                     },
                     func, {"throwing"});
}

// add(x, y) -> matmul(x, y) on shapes matmul does not take: TVM's type inference refuses it.
ObjectRef IllTyped(ObjectRef func) {
  DFPattern x = Wildcard(), y = Wildcard();
  return RewriteCall(IsOp("relax.add")(x, y),
                     [&](const ObjectRef&, const MatchMap& m) { return matmul(m[x], m[y], Any()); },
                     func, {"ill_typed"});
}

// An unnamed rewrite: errors name it by file and line.
ObjectRef Unnamed(ObjectRef func) {
  DFPattern x = Wildcard();
  return RewriteCall(
      IsOp("relax.add")(x, x),
      [](const ObjectRef&, const MatchMap&) -> ObjectRef {
        throw std::invalid_argument("unnamed rewrite failed");
      },
      func);
}

// --- 3. PatternMatchingRewriter --------------------------------------------------------------

PatternMatchingRewriter AddToMultiplyRewriter(const std::string& name) {
  DFPattern x = Wildcard();
  return PatternMatchingRewriter::FromPattern(IsOp("relax.add")(x, x),
                                              [x](const ObjectRef&, const MatchMap& m) {
                                                return multiply(m[x],
                                                                ScalarConst(2, DtypeOf(m[x])));
                                              },
                                              {name});
}

// multiply(x, constant) -> add(x, ghost): not well-formed.
PatternMatchingRewriter UnboundVarRewriter() {
  DFPattern x = Wildcard();
  return PatternMatchingRewriter::FromPattern(
      IsOp("relax.multiply")(x, IsConst()),
      [x](const ObjectRef&, const MatchMap& m) {
        return add(m[x], make_var("ghost", TypeOf(m[x]), ObjectRef()));
      },
      {"unbound_var_rule"});
}

// multiply(x, y) -> multiply(y, x): matches again, forever.
ObjectRef NeverConverges(ObjectRef func) {
  DFPattern x = Wildcard(), y = Wildcard();
  return RewriteCall(IsOp("relax.multiply")(x, y),
                     [&](const ObjectRef&, const MatchMap& m) { return multiply(m[y], m[x]); },
                     func, {"swap_forever", /*check_well_formed=*/true, /*max_callbacks=*/1000});
}

// --- 4. matching: named patterns, each with its twin in tests/python/test_relax_patterns.py --

using Named = std::vector<std::pair<std::string, DFPattern>>;

Named Catalogue(const std::string& name) {
  DFPattern x = Wildcard(), y = Wildcard();
  auto binary = [&](const char* op) { return IsOp(op)(x, y); };
  if (name == "add_xx") return {{"root", IsOp("relax.add")(x, x)}, {"x", x}};
  if (name == "add_or_multiply") {
    return {{"root", (IsOp("relax.add") | IsOp("relax.multiply"))(x, y)}, {"x", x}, {"y", y}};
  }
  if (name == "add_const") {
    DFPattern c = IsConst();
    return {{"root", IsOp("relax.add")(x, c)}, {"x", x}, {"c", c}};
  }
  if (name == "add_not_const") {
    DFPattern nc = ~IsConst();
    return {{"root", IsOp("relax.add")(nc, y)}, {"nc", nc}, {"y", y}};
  }
  if (name == "matmul_and_float32") {
    return {{"root", binary("relax.matmul") & HasDtype("float32")}, {"x", x}, {"y", y}};
  }
  if (name == "matmul_float16") {
    return {{"root", binary("relax.matmul").HasDtype("float16")}, {"x", x}};
  }
  if (name == "matmul_shape") {
    return {{"root", binary("relax.matmul").HasShape(std::vector<int64_t>{4, 16})}, {"x", x}};
  }
  if (name == "tuple") {
    DFPattern t = IsTuple({x, y});
    return {{"root", t}, {"x", x}, {"y", y}};
  }
  if (name == "tuple_unordered") {
    DFPattern c = IsConst();
    return {{"root", IsTuple({c, x}, /*unordered=*/true)}, {"x", x}, {"c", c}};
  }
  if (name == "tuple_get_item") {
    return {{"root", IsTupleGetItem(x, 1)}, {"x", x}};
  }
  if (name == "tuple_get_item_any") {
    return {{"root", IsTupleGetItem(x)}, {"x", x}};
  }
  if (name == "call_tir") {
    return {{"root", IsCallTIR("scale", std::vector<DFPattern>{x})}, {"x", x}};
  }
  if (name == "call_tir_any") return {{"root", IsCallTIR("scale")}};
  if (name == "call_packed") return {{"root", IsCallPacked("my_packed")}};
  if (name == "shape") return {{"root", IsShape(std::vector<int64_t>{4, 16})}};
  if (name == "var_x") {
    DFPattern v = IsVar("x");
    return {{"root", IsOp("relax.add")(v, y)}, {"v", v}, {"y", y}};
  }
  if (name == "dataflow_var") {
    DFPattern v = IsDataflowVar();
    return {{"root", IsOp("relax.add")(v, y)}, {"v", v}};
  }
  if (name == "permute_axes_none") {
    return {{"root", IsOp("relax.permute_dims")(x).HasAttr({{"axes", Any()}})}, {"x", x}};
  }
  if (name == "varargs") {
    return {{"root", IsOp("relax.concat").Call({x}, /*varg_default_wildcard=*/true)}, {"x", x}};
  }
  if (name == "dup") {
    DFPattern p = IsOp("relax.add")(x, y);
    return {{"root", p.Dup()}};
  }
  if (name == "not_add")
    return {{"root", Not(IsOp("relax.add")(x, y)) & IsOp("relax.multiply")(x, y)}};
  TVM_FFI_THROW(ValueError) << "no pattern `" << name << "` in the catalogue";
  TVM_FFI_UNREACHABLE();
}

// None when `pattern` does not match `expr`, else {name: what that part matched}. With a
// function, a variable of it matches what it is bound to.
Any MatchNamed(String name, ObjectRef expr, ObjectRef func) {
  Named named = Catalogue(name);
  std::optional<Bindings> var2val;
  if (func.defined()) var2val = Var2Val(func);
  std::optional<MatchMap> m = Match(named[0].second, expr, var2val);
  if (!m) return Any();
  Map<String, ObjectRef> out;
  for (const auto& [part, pattern] : named) {
    if (m->contains(pattern)) out.Set(part, (*m)[pattern]);
  }
  return out;
}

// Match a type given from Python: Wildcard().HasType(ty).
bool MatchType(ObjectRef ty, ObjectRef expr) {
  return Match(Wildcard().HasType(ty), expr).has_value();
}

// Patterns over several bindings of a block: a matmul used by an add (only by it, with
// `only`). None, or {"matmul": var, "add": var}.
Any MatchBlock(ObjectRef block, bool only) {
  PatternContext context = PatternContext::Make();
  DFPattern mm, add;
  {
    auto scope = context.Enter();
    // Without the arguments' own used-by constraints (add_constraint=false): only the one
    // between the two calls.
    mm = IsOp("relax.matmul").Call({Wildcard(), Wildcard()}, false, false);
    add = IsOp("relax.add").Call({Wildcard(), Wildcard()}, false, false);
    PatternSeq seq = only ? (mm >> add) : (mm ^ add);
    if (seq.patterns().size() != 2) TVM_FFI_THROW(RuntimeError) << "a chain of two expected";
  }
  std::optional<MatchMap> m = context.MatchDataflowBlock(block);
  if (!m) return Any();
  return Map<String, ObjectRef>{{"matmul", (*m)[mm]}, {"add", (*m)[add]}};
}

// The current context, seen from C++, inside and outside a scope.
Array<bool> ContextScopes() {
  Array<bool> out;
  out.push_back(PatternContext::Current().has_value());
  PatternContext context = PatternContext::Make();
  {
    auto scope = context.Enter();
    std::optional<PatternContext> current = PatternContext::Current();
    out.push_back(current.has_value() && current->same_as(context));
  }
  out.push_back(PatternContext::Current().has_value());
  return out;
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("patterns_ext.fuse_transpose_matmul", FuseTransposeMatmul);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.add_to_multiply", AddToMultiply);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.merge_matmuls", MergeMatmuls);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.unbound_var", UnboundVar);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.throwing", Throwing);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.ill_typed", IllTyped);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.unnamed", Unnamed);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.never_converges", NeverConverges);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.match", MatchNamed);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.match_type", MatchType);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.match_block", MatchBlock);
TVM_EXTEND_REGISTER_FUNC("patterns_ext.context_scopes", ContextScopes);
// The rule as a rewriter applied to a module, and as a pass.
TVM_EXTEND_REGISTER_FUNC("patterns_ext.rewriter_apply", [](ObjectRef mod) {
  return AddToMultiplyRewriter("add_to_multiply_rule")(mod);
});
TVM_EXTEND_REGISTER_FUNC("patterns_ext.rewriter_pass", []() {
  return AddToMultiplyRewriter("add_to_multiply_rule")
      .MakePass("patterns_ext.transform.AddToMultiply");
});
// Two rules in one: add(x, x) -> multiply(x, 2), then multiply(x, 2) -> ill-formed.
TVM_EXTEND_REGISTER_FUNC("patterns_ext.ill_formed_pass", []() {
  return (AddToMultiplyRewriter("add_to_multiply_rule") | UnboundVarRewriter())
      .MakePass("patterns_ext.transform.IllFormed");
});
// A rule from a module with `pattern` and `replacement` functions, applied to `target`.
TVM_EXTEND_REGISTER_FUNC("patterns_ext.rewriter_from_module", [](ObjectRef rule, ObjectRef target) {
  return PatternMatchingRewriter::FromModule(rule, {"from_module"})(target);
});
