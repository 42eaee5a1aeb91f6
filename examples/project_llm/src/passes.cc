/*!
 * \file passes.cc
 * \brief project_llm's Relax passes of the kinds MLC-LLM writes in Python, and the ops they
 *        fuse into:
 *
 * - `project_llm.transform.FuseAddRMSNorm` (a Relax function pass): `s = add(x, r)` followed
 *   by `h = rms_norm(s, w)` over the last axis (a transformer block's residual add and norm)
 *   becomes one call of the op `project_llm.add_rms_norm(x, r, w, eps, with_sum)`, which
 *   returns (s, h) when s is used elsewhere, or h alone. Its legalization is its own TIR kernel,
 *   made with the kit's TIR builder: rows in parallel, the sum of squares accumulated in vector
 *   registers, one pass for x + r and one for the scaled output. Contributed to TVM's default
 *   Relax pipeline before LegalizeOps.
 * - `project_llm.transform.FuseTransposeMatmul` (a pattern rewrite, relax_pattern.h):
 *   `matmul(x, permute_dims(w))` becomes `project_llm.matmul_nt(x, w)` (x @ w^T), whose
 *   legalization is the dense kernel of the codegen (Y^T = w x^T on project_a's micro-kernel,
 *   or TVM's default schedule without project_a): no transposed copy of w, with or without the
 *   codegen.
 * - `project_llm.transform.CleanUpTIRAttrs(attrs)` (a module pass): removes the given
 *   attributes ("op_pattern", "tirx.is_scheduled", ...) from every PrimFunc of the module.
 */
#include <tvm/ffi/reflection/accessor.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/func_attr.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/relax_block_builder.h>
#include <tvm_extend/ir/relax_functor.h>
#include <tvm_extend/ir/relax_pattern.h>
#include <tvm_extend/ir/tir_builder.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/relax_legalize.h>
#include <tvm_extend/op/relax_op.h>
#include <tvm_extend/transform/relax_pass.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"

namespace project_llm {
namespace {

using tir::Expr;
using tvm_extend::op::CallArgs;
using tvm_extend::op::TypeOf;

std::string DTypeName(DLDataType t) { return std::string(tvm::ffi::DLDataTypeToString(t)); }

// ---- project_llm.add_rms_norm ------------------------------------------------------------------

// Static argument checks shared by inference and legalization; returns x's tensor type.
relax::TensorType CheckAddRMSNorm(const std::vector<Expr>& args) {
  if (args.size() != 5) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm takes 5 arguments (x, residual, "
                                "weight, epsilon, with_sum), got "
                             << args.size();
  }
  relax::TensorType x = args[0].ty().as<relax::TensorType>();
  relax::TensorType r = args[1].ty().as<relax::TensorType>();
  relax::TensorType w = args[2].ty().as<relax::TensorType>();
  if (!x.defined() || !r.defined() || !w.defined()) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm: x, residual and weight must be tensors";
  }
  if (!relax::SameType(x, r)) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm: x and residual must have one type "
                                "(no broadcasting)";
  }
  if (!x.dtype().defined() || !w.dtype().defined() ||
      DTypeName(x.dtype().dtype()) != DTypeName(w.dtype().dtype())) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm: weight must have x's dtype";
  }
  if (w.ndim() != 1 || x.ndim() < 1) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm: weight is one-dimensional (the last "
                                "axis of x)";
  }
  tir::PrimType eps = args[3].ty().as<tir::PrimType>();
  if (!eps.defined() || eps.dtype().code != kDLFloat) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm: epsilon is a float scalar";
  }
  if (!args[4].as<tir::IntImm>().defined()) {
    TVM_FFI_THROW(TypeError) << "project_llm.add_rms_norm: with_sum is a constant bool";
  }
  return x;
}

bool WithSum(const std::vector<Expr>& args) { return args[4].as<tir::IntImm>().value() != 0; }

// (x + r, rms_norm(x + r, w)) when with_sum, else rms_norm(x + r, w); both of x's type.
ObjectRef InferAddRMSNorm(ObjectRef call, ObjectRef) {
  std::vector<Expr> args = CallArgs(call);
  relax::TensorType x = CheckAddRMSNorm(args);
  if (!WithSum(args)) return x;
  return tir::TupleType::Make(tvm_extend::ir::List<tir::Type>(Array<ObjectRef>{x, x}));
}

// A buffer of `shape` in the thread's local memory (registers / stack), for accumulators.
tir::Var LocalBuffer(const std::string& name, const std::vector<int64_t>& shape, DLDataType t) {
  tir::Var global = tir::FunctionBuilder::MakeBuffer(name, shape, t);
  tir::BufferType ty = global.ty().as<tir::BufferType>();
  tir::BufferType local = tir::BufferType::Make(
      "local", ty.dtype(), ty.shape(), ty.strides(), ty.elem_offset(), ty.data_alignment(),
      ty.offset_factor(), ty.layout(), ty.allocated_addr());
  return tvm_extend::tir::builder_detail::buffer_var(name, local, {});
}

// Below this many elements a parallel launch costs more than it saves (as in schedule.cc).
constexpr int64_t kMinParallelWork = 1 << 17;

// The largest of 16, 8, 4, 2, 1 lanes (at most `lanes`) that divides `extent`.
int64_t LanesFor(int64_t extent, int64_t lanes) {
  while (lanes > 1 && extent % lanes != 0) lanes /= 2;
  return lanes;
}

/*!
 * \brief The kernel: for each row of x (in parallel when large), s = x + r (stored when with_sum),
 * the sum of s*s accumulated in `lanes` partial sums (vectorized), then y = s * rsqrt(mean + eps) *
 * w (vectorized).
 */
tir::PrimFunc AddRMSNormKernel(const std::vector<int64_t>& shape, double eps, bool with_sum,
                               int64_t max_lanes) {
  using namespace tvm_extend::tir;  // NOLINT(build/namespaces): the TIR builder's operators
  const int64_t h = shape.back();
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  const int64_t lanes = LanesFor(h, max_lanes);
  FunctionBuilder b(with_sum ? "add_rms_norm" : "add_rms_norm_no_sum");
  Var X = b.Buffer("x", shape, kF32), R = b.Buffer("residual", shape, kF32);
  Var W = b.Buffer("weight", {h}, kF32);
  Var S = with_sum ? b.Buffer("sum", shape, kF32) : Var();
  Var Y = b.Buffer("y", shape, kF32);
  auto f32 = [](double v) { return FloatImm::Make(kF32, v); };
  auto i32 = [](int64_t v) { return IntImm::Make(kInt32, v); };
  b.For(
      "row", 0, rows,
      [&](const Var& row) {
        // The row's leading indices, from the flat row number.
        std::vector<Expr> lead;
        Expr rest = row;
        for (size_t d = shape.size() - 1; d-- > 0;) {
          lead.insert(lead.begin(), d == 0 ? rest : floormod(rest, shape[d]));
          rest = floordiv(rest, shape[d]);
        }
        auto at = [&](const Expr& j) {
          std::vector<Expr> idx = lead;
          idx.push_back(j);
          return idx;
        };
        Var acc = LocalBuffer("acc", {lanes}, kF32), total = LocalBuffer("total", {1}, kF32);
        b.Emit(AllocBuffer::Make(acc));
        b.Emit(AllocBuffer::Make(total));
        b.For(
            "l", 0, lanes, [&](const Var& l) { b.Store(acc, {l}, f32(0)); }, ForKind::kVectorized);
        b.For("jo", 0, h / lanes, [&](const Var& jo) {
          b.For(
              "l", 0, lanes,
              [&](const Var& l) {
                Expr j = jo * i32(lanes) + l;
                Expr s = b.Load(X, at(j)) + b.Load(R, at(j));
                if (with_sum) b.Store(S, at(j), s);
                b.Store(acc, {l}, b.Load(acc, {l}) + s * s);
              },
              ForKind::kVectorized);
        });
        b.Store(total, {i32(0)}, f32(0));
        b.For("l", 0, lanes, [&](const Var& l) {
          b.Store(total, {i32(0)}, b.Load(total, {i32(0)}) + b.Load(acc, {l}));
        });
        Expr mean = b.Load(total, {i32(0)}) / f32(static_cast<double>(h));
        Expr root =
            Call::Make(PrimType::Make(kF32), tvm_extend::relax::GetOp("tirx.sqrt"),
                       tvm_extend::ir::List<Expr>(Array<ObjectRef>{mean + f32(eps)}), {}, {});
        b.Store(total, {i32(0)}, f32(1) / root);
        b.For("jo", 0, h / lanes, [&](const Var& jo) {
          b.For(
              "l", 0, lanes,
              [&](const Var& l) {
                Expr j = jo * i32(lanes) + l;
                Expr s = with_sum ? b.Load(S, at(j)) : b.Load(X, at(j)) + b.Load(R, at(j));
                b.Store(Y, at(j), s * b.Load(total, {i32(0)}) * b.Load(W, {j}));
              },
              ForKind::kVectorized);
        });
      },
      rows * h >= kMinParallelWork ? ForKind::kParallel : ForKind::kSerial);
  PrimFunc func = b.Finish();
  func = WithAttr(func, "tirx.noalias", true);
  return WithAttr(func, "tirx.is_scheduled", true);
}

tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, String)> bb_emit{
    "relax.BlockBuilderEmit"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, String)> add_function{
    "relax.BlockBuilderAddFunction"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, Array<ObjectRef>)> call_tir{
    "relax.op.call_tir"};

ObjectRef LegalizeAddRMSNorm(ObjectRef bb, ObjectRef call) {
  std::vector<Expr> args = CallArgs(call);
  relax::TensorType x = CheckAddRMSNorm(args);
  const double eps =
      args[3].as<tir::FloatImm>().defined() ? args[3].as<tir::FloatImm>().value() : -1;
  std::optional<StaticTensor> xs = StaticTensorOf(x);
  std::optional<ObjectRef> target = CurrentTarget();
  if (!xs || !IsF32(xs->dtype) || eps < 0) {
    // Symbolic shapes, another dtype, a computed epsilon: TVM's own ops, legalized in turn.
    if (eps < 0) TVM_FFI_THROW(ValueError) << "project_llm.add_rms_norm: epsilon must be constant";
    ObjectRef s = bb_emit(bb, Global("relax.op.add")(args[0], args[1]).cast<ObjectRef>(), "sum");
    ObjectRef y =
        Global("relax.op.nn.rms_norm")(s, args[2], Array<int64_t>{-1}, eps).cast<ObjectRef>();
    if (!WithSum(args)) return y;
    return tir::Tuple::Make(tvm_extend::ir::List<Expr>(Array<ObjectRef>{s, y}));
  }
  const int64_t lanes = target && TargetKind(*target) == "llvm" ? VectorLanes(*target) : 4;
  tir::PrimFunc kernel = AddRMSNormKernel(xs->shape, eps, WithSum(args), lanes);
  // call_tir takes the outputs' tensor types: (s, y) or y.
  Array<ObjectRef> outs = WithSum(args) ? Array<ObjectRef>{x, x} : Array<ObjectRef>{x};
  ObjectRef gv =
      add_function(bb, kernel, String(WithSum(args) ? "add_rms_norm" : "rms_norm_of_sum"));
  tir::Tuple inputs =
      tir::Tuple::Make(tvm_extend::ir::List<Expr>(Array<ObjectRef>{args[0], args[1], args[2]}));
  return call_tir(gv, inputs, outs);
}

// ---- FuseAddRMSNorm ----------------------------------------------------------------------------

// How often each variable is used in a function.
class UseCounter : public relax::ExprVisitor {
 public:
  void VisitExpr_(const relax::Var& var) override { ++uses[var]; }
  std::unordered_map<relax::Var, int, tvm::ffi::ObjectPtrHash, tvm::ffi::ObjectPtrEqual> uses;
};

// rms_norm's attributes (no view covers relax.attrs.RMSNormAttrs).
struct NormAttrs {
  std::vector<int64_t> axes;
  double epsilon;
};
NormAttrs ReadNormAttrs(const relax::Call& call) {
  static const tvm::ffi::reflection::FieldGetter axes("relax.attrs.RMSNormAttrs", "axes");
  static const tvm::ffi::reflection::FieldGetter epsilon("relax.attrs.RMSNormAttrs", "epsilon");
  NormAttrs out{{}, epsilon(call.attrs()).cast<double>()};
  for (const Any& a : axes(call.attrs()).cast<Array<Any>>()) {
    auto i = a.try_cast<int64_t>();
    out.axes.push_back(i ? *i : tir::IntImm(a.cast<ObjectRef>()).value());
  }
  return out;
}

class AddRMSNormFuser : public relax::ExprMutator {
 public:
  AddRMSNormFuser(const tir::IRModule& mod, const relax::Function& func) : ExprMutator(mod) {
    counter_.VisitExpr(func);
  }
  bool changed = false;

  void VisitBinding_(const relax::VarBinding& binding) override {
    Expr value = VisitExpr(binding.value());
    if (!relax::IsOp(value, "relax.nn.rms_norm")) return ReEmitBinding(binding, value);
    relax::Call norm(value);
    Expr s = norm.args()[0], w = norm.args()[1];
    if (!relax::Var::IsInstance(s)) return ReEmitBinding(binding, value);
    Expr add = LookupBinding(relax::Var(s));
    if (!add.defined() || !relax::IsOp(add, "relax.add")) return ReEmitBinding(binding, value);
    Expr x = relax::Call(add).args()[0], r = relax::Call(add).args()[1];
    std::optional<StaticTensor> xs = StaticTensorOfExpr(x), rs = StaticTensorOfExpr(r);
    std::optional<StaticTensor> ws = StaticTensorOfExpr(w), ss = StaticTensorOfExpr(s);
    NormAttrs attrs = ReadNormAttrs(norm);
    const int64_t rank = xs ? static_cast<int64_t>(xs->shape.size()) : 0;
    bool ok = xs && rs && ws && ss && IsF32(xs->dtype) && IsF32(rs->dtype) && IsF32(ws->dtype) &&
              xs->shape == rs->shape && xs->shape == ss->shape && ws->shape.size() == 1 &&
              rank >= 1 && ws->shape[0] == xs->shape.back() && attrs.axes.size() == 1 &&
              (attrs.axes[0] == -1 || attrs.axes[0] == rank - 1);
    if (!ok) return ReEmitBinding(binding, value);
    // s is used by this norm only: the fused op returns the norm; else (sum, norm), and the
    // later uses of s read the fused op's sum.
    const bool with_sum = counter_.uses[relax::Var(s)] > 1;
    Expr fused = builder_.Normalize(relax::MakeCall(
        "project_llm.add_rms_norm", {x, r, w, tir::FloatImm::Make(kF32, attrs.epsilon),
                                     tir::IntImm::Make(tir::kBool, with_sum ? 1 : 0)}));
    changed = true;
    if (!with_sum) return ReEmitBinding(binding, fused);
    relax::Var both = builder_.Emit(fused, "add_rms_norm");
    relax::Var old_sum(s);
    relax::Var sum = relax::DataflowVar::IsInstance(old_sum) || !builder_.CurrentBlockIsDataflow()
                         ? builder_.Emit(tir::TupleGetItem::Make(both, 0), old_sum.name())
                         : builder_.EmitOutput(tir::TupleGetItem::Make(both, 0), old_sum.name());
    RemapVar(old_sum, sum);
    ReEmitBinding(binding, tir::TupleGetItem::Make(both, 1));
  }

 private:
  UseCounter counter_;
};

tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef)> remove_all_unused{
    "relax.analysis.remove_all_unused"};

ObjectRef FuseAddRMSNorm(ObjectRef func, ObjectRef mod, ObjectRef) {
  relax::Function f(func);
  AddRMSNormFuser fuser{tir::IRModule(mod), f};
  relax::Function out = fuser.Rewrite(f);
  if (!fuser.changed) return func;
  return remove_all_unused(out);  // the adds whose every use was fused
}

// ---- project_llm.matmul_nt and FuseTransposeMatmul ---------------------------------------

// x @ w^T: x (..., K), w (N, K) -> (..., N), x's dtype.
ObjectRef InferMatmulNT(ObjectRef call, ObjectRef) {
  std::vector<Expr> args = CallArgs(call);
  if (args.size() != 2) {
    TVM_FFI_THROW(TypeError) << "project_llm.matmul_nt takes 2 arguments (x, w), got "
                             << args.size();
  }
  std::optional<tvm_extend::op::TensorInfo> x = tvm_extend::op::TensorOf(TypeOf(args[0]));
  std::optional<tvm_extend::op::TensorInfo> w = tvm_extend::op::TensorOf(TypeOf(args[1]));
  if (!x || !w || !x->shape || !w->shape || !x->dtype) {
    TVM_FFI_THROW(TypeError) << "project_llm.matmul_nt: x and w must be tensors of known shape";
  }
  if (w->shape->size() != 2 || x->shape->empty()) {
    TVM_FFI_THROW(TypeError) << "project_llm.matmul_nt: w is (N, K), x is (..., K)";
  }
  std::vector<Expr> out(x->shape->begin(), x->shape->end() - 1);
  out.push_back((*w->shape)[0]);
  return tvm_extend::op::MakeTensorType(out, *x->dtype);
}

ObjectRef LegalizeMatmulNT(ObjectRef bb, ObjectRef call) {
  std::vector<Expr> args = CallArgs(call);
  std::optional<StaticTensor> x = StaticTensorOfExpr(args[0]), w = StaticTensorOfExpr(args[1]);
  std::optional<ObjectRef> target = CurrentTarget();
  if (!x || !w || !IsF32(x->dtype) || !IsF32(w->dtype) || !target ||
      TargetKind(*target) != "llvm") {
    // TVM's own ops, legalized in turn.
    ObjectRef wt =
        bb_emit(bb, Global("relax.op.permute_dims")(args[1], Any()).cast<ObjectRef>(), "wt");
    return Global("relax.op.matmul")(args[0], wt, Any()).cast<ObjectRef>();
  }
  tir::PrimFunc kernel = DenseKernel("matmul_nt", x->shape, w->shape, false, *target);
  kernel = tvm_extend::tir::WithAttr(kernel, "tirx.is_scheduled", true);
  return tvm_extend::op::EmitCallTIR(bb, kernel, {args[0], args[1]}, TypeOf(call));
}

ObjectRef FuseTransposeMatmul(ObjectRef func, ObjectRef, ObjectRef) {
  namespace dpl = tvm_extend::relax::dpl;
  dpl::DFPattern x = dpl::Wildcard(), w = dpl::Wildcard();
  dpl::DFPattern w_t = dpl::IsOp("relax.permute_dims")(w);
  dpl::DFPattern pattern = dpl::IsOp("relax.matmul")(x, w_t);
  return dpl::RewriteCall(
      pattern,
      [&](const ObjectRef& matched, const dpl::MatchMap& m) -> ObjectRef {
        static const tvm::ffi::reflection::FieldGetter axes_of("relax.attrs.PermuteDimsAttrs",
                                                               "axes");
        auto axes = axes_of(relax::Call(m[w_t]).attrs()).cast<tvm::ffi::Optional<Array<Any>>>();
        std::optional<StaticTensor> xs = StaticTensorOfExpr(Expr(m[x]));
        std::optional<StaticTensor> ws = StaticTensorOfExpr(Expr(m[w]));
        std::optional<StaticTensor> ys = StaticTensorOfExpr(Expr(matched));
        bool transpose = !axes.has_value();
        if (axes && axes->size() == 2) {
          auto a0 = (*axes)[0].try_cast<int64_t>(), a1 = (*axes)[1].try_cast<int64_t>();
          if (!a0) a0 = tir::IntImm((*axes)[0].cast<ObjectRef>()).value();
          if (!a1) a1 = tir::IntImm((*axes)[1].cast<ObjectRef>()).value();
          transpose = *a0 == 1 && *a1 == 0;
        }
        // Only where x @ w^T is exactly the matmul: w two-dimensional, static shapes, one
        // dtype throughout (matmul's out_dtype may differ).
        if (!transpose || !xs || !ws || !ys || ws->shape.size() != 2 || xs->shape.empty() ||
            xs->shape.back() != ws->shape[1] || DTypeName(xs->dtype) != DTypeName(ws->dtype) ||
            DTypeName(ys->dtype) != DTypeName(xs->dtype)) {
          return matched;
        }
        return relax::MakeCall("project_llm.matmul_nt", {Expr(m[x]), Expr(m[w])});
      },
      func, {"project_llm.transform.FuseTransposeMatmul"});
}

// ---- CleanUpTIRAttrs ---------------------------------------------------------------------

tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, ObjectRef, bool)> module_add{
    "ir.Module_Add"};

ObjectRef CleanUpTIRAttrs(Array<String> attrs) {
  return tvm_extend::transform::MakeModulePass(
      "project_llm.transform.CleanUpTIRAttrs",
      [attrs](ObjectRef mod_ref, ObjectRef) -> ObjectRef {
        ObjectRef out = mod_ref;
        for (const auto& [gv, func] : tir::IRModule(mod_ref).functions()) {
          ObjectRef f = func.cast<ObjectRef>();
          if (!tir::PrimFunc::IsInstance(f)) continue;
          tir::PrimFunc prim(f);
          bool changed = false;
          for (const String& key : attrs) {
            if (tvm_extend::tir::GetAttr(prim, key) == nullptr) continue;
            prim = tvm_extend::tir::WithoutAttr(prim, key);
            changed = true;
          }
          if (changed) out = module_add(out, gv.cast<ObjectRef>(), prim, true);
        }
        return out;
      },
      0);
}

}  // namespace
}  // namespace project_llm

TVM_EXTEND_REGISTER_RELAX_OP("project_llm.add_rms_norm", [] {
  return tvm_extend::op::RelaxOpSpec(
             "s = x + residual; y = rms_norm(s, weight) over the last axis; returns (s, y) when "
             "with_sum, else y")
      .input("x", "Tensor", "the input")
      .input("residual", "Tensor", "added to x (same shape)")
      .input("weight", "Tensor", "the norm's weight, over the last axis")
      .input("epsilon", "Prim", "added to the mean square")
      .input("with_sum", "Prim", "a constant bool: also return x + residual")
      .infer_type(project_llm::InferAddRMSNorm)
      .pure()
      .legalize(project_llm::LegalizeAddRMSNorm);
});
TVM_EXTEND_REGISTER_RELAX_OP("project_llm.matmul_nt", [] {
  return tvm_extend::op::RelaxOpSpec("x @ w^T for x (..., K), w (N, K): a Linear projection")
      .input("x", "Tensor", "the activations")
      .input("w", "Tensor", "the weight, (N, K)")
      .infer_type(project_llm::InferMatmulNT)
      .pure()
      .legalize(project_llm::LegalizeMatmulNT);
});

TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("project_llm.transform.FuseAddRMSNorm",
                                        project_llm::FuseAddRMSNorm, 0);
TVM_EXTEND_CONTRIBUTE_PASS("project_llm.transform.FuseAddRMSNorm", "relax", "default", "before",
                           "LegalizeOps");
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("project_llm.transform.FuseTransposeMatmul",
                                        project_llm::FuseTransposeMatmul, 0);
TVM_EXTEND_REGISTER_PASS_FACTORY("project_llm.transform.CleanUpTIRAttrs",
                                 project_llm::CleanUpTIRAttrs);
