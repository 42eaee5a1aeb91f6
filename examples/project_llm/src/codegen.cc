/*!
 * \file codegen.cc
 * \brief project_llm's BYOC codegen, `relax.ext.project_llm`, with its pattern table, and the
 *        pass that offloads to it from TVM's default Relax pipeline.
 *
 * Patterns (C++, <tvm_extend/ir/relax_pattern.h>), each with a check:
 * - `project_llm.dense`: `matmul(x, permute_dims(w))`, a Linear layer's projection, x float32
 *   (..., M, K), w float32 (N, K), static shapes. The kernel computes the transposed product
 *   Y^T = W X^T, so that the large operand W is read in its own row-major layout (A of
 *   project_a's micro-kernel, packed row panel by row panel) and only the small activation is
 *   transposed (B), and writes Y back transposed from the accumulator tile.
 * - `project_llm.batch_matmul`: `matmul(a, b)` of two float32 tensors with the same batch
 *   dimensions (attention's Q K^T and P V): batches in parallel, an mr x nr accumulator tile in
 *   registers over the reduction, no packing (the operands of one batch fit in cache).
 *
 * The codegen (TVM_EXTEND_REGISTER_CODEGEN) is called by RunCodegen once per outlined function
 * and returns a module, built by TVM's `tirx.build` for the current target, whose function is
 * named by the function's `global_symbol` (what the Relax VM calls). Relax is read through the
 * typed views (relax.h); only what they do not cover (a permute_dims call's `axes`, the pattern
 * check context) is read by reflection.
 *
 * `project_llm.transform.OffloadMatmul` (FuseOpsByPattern with these patterns, then RunCodegen)
 * is contributed to TVM's default Relax pipeline before LegalizeOps: installed, project_llm
 * makes a plain `tvm.compile(relax_mod, target="llvm")` offload its matmuls.
 */
#include <tvm/ffi/reflection/accessor.h>
#include <tvm_extend/backend/codegen.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/func_attr.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/relax_block_builder.h>
#include <tvm_extend/ir/relax_functor.h>
#include <tvm_extend/ir/relax_pattern.h>
#include <tvm_extend/schedule/schedule.h>
#include <tvm_extend/transform/relax_pass.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common.h"

namespace project_llm {

// ---- shared helpers (common.h) ----------------------------------------------------------------

Function Global(const char* name) {
  auto f = Function::GetGlobal(name);
  if (!f) {
    throw tvm::ffi::Error("RuntimeError",
                          std::string("project_llm: the global function '") + name +
                              "' is not registered" +
                              (std::string(name).rfind("project_a.", 0) == 0
                                   ? " (project_llm's dense kernels use project_a's micro-kernel: "
                                     "install and load project_a)"
                                   : ""),
                          "");
  }
  return *f;
}

namespace {
tvm_extend::ir::GlobalFunction<bool(String, ObjectRef)> cpu_has_feature{
    "target.llvm_cpu_has_feature"};
tvm_extend::ir::GlobalFunction<ObjectRef(bool)> current_target{"target.TargetCurrent"};
tvm_extend::ir::GlobalFunction<Map<String, Any>(ObjectRef)> export_target{"target.TargetExport"};
}  // namespace

std::optional<ObjectRef> CurrentTarget() {
  ObjectRef target = current_target(true);
  if (!target.defined()) return std::nullopt;
  return target;
}

std::string TargetKind(const ObjectRef& target) {
  return std::string(export_target(target)["kind"].cast<String>());
}

Tile TileFor(const ObjectRef& target) {
  if (cpu_has_feature("avx512f", target)) return {8, 16};
  if (cpu_has_feature("avx2", target)) return {8, 8};
  return {4, 4};
}

int64_t VectorLanes(const ObjectRef& target) { return TileFor(target).nr; }

void CodegenFail(const std::string& function, const std::string& why) {
  throw tvm::ffi::Error(
      "ValueError",
      "codegen project_llm (relax.ext.project_llm): function '" + function + "': " + why, "");
}

namespace {
using tvm_extend::schedule::LoopRV;
using tvm_extend::schedule::SBlockRV;
using tvm_extend::schedule::Schedule;

Array<ObjectRef> Shape(const std::vector<int64_t>& dims) {
  Array<ObjectRef> out;
  for (int64_t d : dims) out.push_back(tir::IntImm::Make(DLDataType{kDLInt, 32, 1}, d));
  return out;
}

ObjectRef Placeholder(const std::vector<int64_t>& shape, const char* name) {
  return Global("te.Placeholder")(Shape(shape), String("float32"), String(name)).cast<ObjectRef>();
}

int64_t Product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= dims[i];
  return p;
}

std::vector<std::string> BlockNames(const Schedule& sch) {
  std::vector<std::string> names;
  for (const SBlockRV& rv : sch.GetChildBlocks(sch.GetSBlock("root"))) {
    names.push_back(std::string(tir::SBlock(sch.Get(rv)).name_hint()));
  }
  return names;
}

tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, String, Any)> with_attr{"ir.BaseFuncWithAttr"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, Map<Any, Any>)> module_from_expr{
    "ir.Module_FromExpr"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, String)> module_lookup{"ir.Module_Lookup_str"};

Schedule ScheduleOf(const std::string& symbol, const ObjectRef& func) {
  ObjectRef named = with_attr(func, "global_symbol", String(symbol));
  Schedule sch = Schedule::Traced(module_from_expr(named, {}));
  sch.WorkOn(symbol);
  return sch;
}

tir::PrimFunc Lookup(const Schedule& sch, const std::string& symbol) {
  return tir::PrimFunc(module_lookup(sch.mod(), String(symbol)));
}
}  // namespace

tir::PrimFunc DenseKernel(const std::string& symbol, const std::vector<int64_t>& x_shape,
                          const std::vector<int64_t>& w_shape, bool w_first,
                          const ObjectRef& target, bool schedule) {
  const int64_t k = w_shape[1], m = Product(x_shape, 0, x_shape.size() - 1);
  std::vector<int64_t> y_shape(x_shape.begin(), x_shape.end() - 1);
  y_shape.push_back(w_shape[0]);
  ObjectRef x = Placeholder(x_shape, "x"), w = Placeholder(w_shape, "w");
  Function reshape = Global("topi.reshape"), transpose = Global("topi.transpose"),
           matmul = Global("topi.matmul");
  Array<int64_t> swap{1, 0};
  ObjectRef xt = transpose(reshape(x, Shape({m, k})), swap).cast<ObjectRef>();
  ObjectRef yt = matmul(w, xt, false, false).cast<ObjectRef>();
  ObjectRef y = reshape(transpose(yt, swap), Shape(y_shape)).cast<ObjectRef>();
  Array<ObjectRef> args = w_first ? Array<ObjectRef>{w, x, y} : Array<ObjectRef>{x, w, y};
  Schedule sch = ScheduleOf(symbol, Global("te.CreatePrimFunc")(args, Any()).cast<ObjectRef>());
  auto check = Function::GetGlobal("project_a.schedule.check_matmul");
  if (!schedule || !check) return Lookup(sch, symbol);  // unscheduled: TVM's default
  // Blocks: reshape(x), transpose, the matmul, transpose, reshape(y). The micro-kernel packs
  // the matmul's operands; the copies before it are inlined into the packing, those after it
  // into the write-back of the accumulator tile.
  std::vector<std::string> names = BlockNames(sch);
  auto is_matmul = [&](const std::string& name) {
    return std::string((*check)(sch.ref(), String(name)).cast<String>()).empty();
  };
  auto it = std::find_if(names.begin(), names.end(), is_matmul);
  if (it == names.end()) CodegenFail(symbol, "project_a's micro-kernel refuses its matmul block");
  const Tile tile = TileFor(target);
  Global("project_a.schedule.matmul_microkernel")(sch.ref(), String(*it), tile.mr, tile.nr,
                                                  int64_t{1024}, true);
  for (auto p = names.begin(); p != it; ++p) sch.ComputeInline(sch.GetSBlock(*p));
  for (auto c = it + 1; c != names.end(); ++c) sch.ReverseComputeInline(sch.GetSBlock(*c));
  return Lookup(sch, symbol);
}

namespace {

// C = a @ b for a (..., M, K), b (..., K, N) with the same batch dimensions.
tir::PrimFunc BatchMatmulKernel(const std::string& symbol, const StaticTensor& a,
                                const StaticTensor& b, bool b_first, const ObjectRef& target) {
  const size_t rank = a.shape.size();
  ObjectRef pa = Placeholder(a.shape, "a"), pb = Placeholder(b.shape, "b");
  std::string batch;
  for (size_t i = 0; i + 2 < rank; ++i) batch += static_cast<char>('p' + i);
  ObjectRef c = Global("topi.einsum")(String(batch + "ik," + batch + "kj->" + batch + "ij"),
                                      Array<ObjectRef>{pa, pb})
                    .cast<ObjectRef>();
  Array<ObjectRef> args = b_first ? Array<ObjectRef>{pb, pa, c} : Array<ObjectRef>{pa, pb, c};
  Schedule sch = ScheduleOf(symbol, Global("te.CreatePrimFunc")(args, Any()).cast<ObjectRef>());
  SBlockRV block = sch.GetChildBlocks(sch.GetSBlock("root")).at(0);
  std::vector<LoopRV> loops = sch.GetLoops(block);  // batch..., i, j, k
  const int64_t m = a.shape[rank - 2], n = b.shape[rank - 1];
  Tile tile = TileFor(target);
  while (tile.mr > 1 && m % tile.mr != 0) --tile.mr;  // exact splits: no predicate
  if (n % tile.nr != 0) tile.nr = 1;
  LoopRV batches = sch.Fuse(std::vector<LoopRV>(loops.begin(), loops.end() - 3));
  std::vector<LoopRV> is = sch.Split(loops[rank - 2], {std::nullopt, tile.mr});
  std::vector<LoopRV> js = sch.Split(loops[rank - 1], {std::nullopt, tile.nr});
  LoopRV k = loops[rank];
  sch.Reorder({batches, is[0], js[0], k, is[1], js[1]});
  SBlockRV acc = sch.CacheWrite(block, 0, "global");  // the tile, kept in registers by LLVM
  sch.ReverseComputeAt(acc, js[0]);
  sch.Unroll(is[1]);
  if (tile.nr > 1) sch.Vectorize(js[1]);
  sch.Parallel(batches);
  sch.DecomposeReduction(block, k);
  return Lookup(sch, symbol);
}

// ---- patterns and their checks ------------------------------------------------------------

namespace dpl = tvm_extend::relax::dpl;

// `axes` of a permute_dims call (None: reverse all), read by reflection: no view covers
// relax.attrs.PermuteDimsAttrs.
std::optional<std::vector<int64_t>> PermuteAxes(const relax::Call& call) {
  static const tvm::ffi::reflection::FieldGetter axes("relax.attrs.PermuteDimsAttrs", "axes");
  auto value = axes(call.attrs()).cast<tvm::ffi::Optional<Array<Any>>>();
  if (!value) return std::nullopt;
  std::vector<int64_t> out;
  for (const Any& a : *value) {
    if (auto i = a.try_cast<int64_t>()) {
      out.push_back(*i);
    } else {
      out.push_back(tir::IntImm(a.cast<ObjectRef>()).value());
    }
  }
  return out;
}

// The named sub-expressions of a match (relax.transform.PatternCheckContext.annotated_expr).
Map<String, ObjectRef> Annotated(const ObjectRef& context) {
  static const tvm::ffi::reflection::FieldGetter annotated("relax.transform.PatternCheckContext",
                                                           "annotated_expr");
  return annotated(context).cast<Map<String, ObjectRef>>();
}
tir::Expr Matched(const ObjectRef& context) {
  static const tvm::ffi::reflection::FieldGetter matched("relax.transform.PatternCheckContext",
                                                         "matched_expr");
  return tir::Expr(matched(context).cast<ObjectRef>());
}

bool IsStaticF32(const std::optional<StaticTensor>& t) { return t && IsF32(t->dtype); }

// x (..., M, K) and w (N, K), float32, static; the transpose swaps w's two axes.
bool CheckDense(ObjectRef context) {
  Map<String, ObjectRef> m = Annotated(context);
  auto x = StaticTensorOfExpr(tir::Expr(m["x"])), w = StaticTensorOfExpr(tir::Expr(m["w"]));
  auto y = StaticTensorOfExpr(Matched(context));
  if (!IsStaticF32(x) || !IsStaticF32(w) || !IsStaticF32(y)) return false;
  if (w->shape.size() != 2 || x->shape.size() < 2 || x->shape.back() != w->shape[1]) return false;
  std::optional<std::vector<int64_t>> axes = PermuteAxes(relax::Call(m["w_t"]));
  return !axes || *axes == std::vector<int64_t>{1, 0};
}

// a (..., M, K) and b (..., K, N), float32, static, with the same batch dimensions.
bool CheckBatchMatmul(ObjectRef context) {
  Map<String, ObjectRef> m = Annotated(context);
  auto a = StaticTensorOfExpr(tir::Expr(m["a"])), b = StaticTensorOfExpr(tir::Expr(m["b"]));
  auto c = StaticTensorOfExpr(Matched(context));
  if (!IsStaticF32(a) || !IsStaticF32(b) || !IsStaticF32(c)) return false;
  const std::vector<int64_t>&sa = a->shape, &sb = b->shape;
  const size_t rank = sa.size();
  if (rank < 3 || sb.size() != rank || sa[rank - 1] != sb[rank - 2]) return false;
  return std::equal(sa.begin(), sa.end() - 2, sb.begin());
}

tvm::ffi::Module Codegen(ObjectRef function, tvm_extend::backend::CodegenOptions options);

tvm_extend::backend::CodegenSpec MakeCodegenSpec() {
  dpl::DFPattern a = dpl::Wildcard(), b = dpl::Wildcard();
  dpl::DFPattern batch_matmul = dpl::IsOp("relax.matmul")(a, b);
  dpl::DFPattern x = dpl::Wildcard(), w = dpl::Wildcard();
  dpl::DFPattern w_t = dpl::IsOp("relax.permute_dims")(w);
  dpl::DFPattern dense = dpl::IsOp("relax.matmul")(x, w_t);
  // The more specific pattern first: FuseOpsByPattern tries the table's patterns in order.
  return tvm_extend::backend::CodegenSpec(
             "float32 matmuls on register-blocked CPU kernels: a Linear layer's projection "
             "(matmul(x, permute_dims(w))) on project_a's micro-kernel, attention's batched "
             "matmuls register-tiled")
      .pattern("dense", dense, CheckDense, {{"x", x}, {"w", w}, {"w_t", w_t}})
      .pattern("batch_matmul", batch_matmul, CheckBatchMatmul, {{"a", a}, {"b", b}})
      .codegen(Codegen);
}

// ---- the codegen --------------------------------------------------------------------------

/*! \brief An outlined function: `local = <composite function>; out = local(args)`. */
struct Outlined {
  std::string symbol, composite;
  std::vector<StaticTensor> params;  // in the outlined function's parameter order
  int lhs = -1, rhs = -1;            // dense: x and w; batch_matmul: a and b
};

int IndexOf(const tvm_extend::ir::List<relax::Var>& items, const tir::Expr& item) {
  for (int64_t i = 0; i < items.size(); ++i) {
    if (items[i].same_as(item)) return static_cast<int>(i);
  }
  return -1;
}

Outlined Read(const relax::Function& func) {
  Outlined o;
  std::optional<String> symbol = tvm_extend::tir::GetAttr<String>(func, "global_symbol");
  if (!symbol) CodegenFail("<no global_symbol>", "it has no global_symbol");
  o.symbol = *symbol;
  tvm_extend::ir::List<relax::Var> params = func.params();
  for (int64_t i = 0; i < params.size(); ++i) {
    std::optional<StaticTensor> t = StaticTensorOf(params[i].ty());
    if (!t) CodegenFail(o.symbol, "parameter " + std::to_string(i) + " is not a static tensor");
    if (!IsF32(t->dtype)) {
      CodegenFail(o.symbol, "parameter " + std::to_string(i) + " is " +
                                std::string(tvm::ffi::DLDataTypeToString(t->dtype)) +
                                ", not float32");
    }
    o.params.push_back(*t);
  }
  relax::Function composite;
  relax::Call call;
  for (const relax::Binding& b : relax::BindingsOf(func)) {
    tir::Expr value = relax::BoundValue(b);
    if (relax::Function::IsInstance(value) &&
        tvm_extend::tir::GetAttr(relax::Function(value), "Composite") != nullptr) {
      composite = relax::Function(value);
    } else if (relax::Call::IsInstance(value)) {
      call = relax::Call(value);
    }
  }
  if (!composite.defined() || !call.defined()) CodegenFail(o.symbol, "it calls no composite");
  o.composite = *tvm_extend::tir::GetAttr<String>(composite, "Composite");
  if (o.composite != "project_llm.dense" && o.composite != "project_llm.batch_matmul") {
    CodegenFail(o.symbol,
                "unknown composite '" + o.composite +
                    "' (project_llm compiles project_llm.dense and project_llm.batch_matmul)");
  }
  // The composite's parameters are bound to the outlined function's parameters by the call.
  tvm_extend::ir::List<relax::Var> inner = composite.params();
  tvm_extend::ir::List<tir::Expr> args = call.args();
  auto outer_index = [&](const tir::Expr& inner_var) {
    int i = IndexOf(inner, inner_var);
    if (i < 0 || i >= args.size()) return -1;
    return IndexOf(params, args[i]);
  };
  relax::VarMap body = relax::VarBindings(composite);
  for (const relax::Binding& b : relax::BindingsOf(composite)) {
    tir::Expr value = relax::BoundValue(b);
    if (!relax::IsOp(value, "relax.matmul")) continue;
    tvm_extend::ir::List<tir::Expr> operands = relax::Call(value).args();
    tir::Expr lhs = operands[0], rhs = operands[1];
    if (o.composite == "project_llm.dense" && relax::Var::IsInstance(rhs)) {
      tir::Expr producer = relax::LookupBinding(body, relax::Var(rhs));  // permute_dims(w)
      if (relax::IsOp(producer, "relax.permute_dims")) rhs = relax::Call(producer).args()[0];
    }
    o.lhs = outer_index(lhs);
    o.rhs = outer_index(rhs);
  }
  if (o.lhs < 0 || o.rhs < 0) {
    CodegenFail(o.symbol, "composite '" + o.composite + "' is not a matmul of its parameters");
  }
  return o;
}

tvm::ffi::Module Codegen(ObjectRef function, tvm_extend::backend::CodegenOptions) {
  Outlined o = Read(relax::Function(function));
  std::optional<ObjectRef> target = CurrentTarget();
  if (!target) {
    CodegenFail(o.symbol,
                "no current target; run RunCodegen inside `with tvm.target.Target(...)` "
                "(tvm.compile does)");
  }
  const StaticTensor &lhs = o.params[o.lhs], &rhs = o.params[o.rhs];
  tir::PrimFunc kernel;
  if (o.composite == "project_llm.dense") {
    if (rhs.shape.size() != 2 || lhs.shape.size() < 2 || lhs.shape.back() != rhs.shape[1]) {
      CodegenFail(o.symbol, "project_llm.dense needs x (..., M, K) and w (N, K)");
    }
    kernel = DenseKernel(o.symbol, lhs.shape, rhs.shape, o.rhs < o.lhs, *target);
  } else {
    const size_t rank = lhs.shape.size();
    bool ok = rank >= 3 && rhs.shape.size() == rank && lhs.shape[rank - 1] == rhs.shape[rank - 2];
    ok = ok && std::equal(lhs.shape.begin(), lhs.shape.end() - 2, rhs.shape.begin());
    if (!ok) CodegenFail(o.symbol, "project_llm.batch_matmul needs a (..., M, K), b (..., K, N)");
    kernel = BatchMatmulKernel(o.symbol, lhs, rhs, o.rhs < o.lhs, *target);
  }
  return Global("tirx.build")(kernel, *target, String("default")).cast<tvm::ffi::Module>();
}

/*! \brief (mr, nr): the register tile the kernels use for a CPU target. */
Array<int64_t> TileOf(ObjectRef target) {
  Tile t = TileFor(target);
  return {t.mr, t.nr};
}

// ---- the offload pass ----------------------------------------------------------------------

tvm_extend::ir::GlobalFunction<Array<ObjectRef>(String)> patterns_with_prefix{
    "relax.backend.GetPatternsWithPrefix"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef)> run_pass{"transform.RunPass"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, ObjectRef, bool)> module_add{
    "ir.Module_Add"};

// The Relax functions a caller outside the module can call: what FuseOpsByPattern and
// RunCodegen start from (private functions are reached through them, or left alone).
Array<String> PublicRelaxFunctions(const tir::IRModule& mod) {
  Array<String> names;
  for (const auto& [gv, func] : mod.functions()) {
    ObjectRef f = func.cast<ObjectRef>();
    if (!relax::Function::IsInstance(f)) continue;
    relax::Function rf(f);
    if (tvm_extend::tir::GetAttr(rf, "global_symbol") == nullptr) continue;
    if (tvm_extend::tir::GetAttr(rf, "Codegen") != nullptr) continue;
    names.push_back(tir::GlobalVar(gv.cast<ObjectRef>()).name_hint());
  }
  return names;
}

bool HasProjectLLMCalls(const tir::IRModule& mod) {
  for (const auto& [gv, func] : mod.functions()) {
    ObjectRef f = func.cast<ObjectRef>();
    if (!relax::Function::IsInstance(f)) continue;
    std::optional<String> codegen = tvm_extend::tir::GetAttr<String>(relax::Function(f), "Codegen");
    if (codegen && *codegen == "project_llm") return true;
  }
  return false;
}

/*!
 * \brief FuseOpsByPattern with project_llm's patterns (annotated for the codegen), then
 *        RunCodegen, from the module's public Relax functions, for a CPU (llvm) target only; a
 *        module with nothing to offload comes back as it was. RunCodegen ends with dead-code
 *        elimination from the public functions: private functions it dropped are put back.
 */
ObjectRef OffloadMatmul(ObjectRef mod_ref, ObjectRef) {
  tir::IRModule mod(mod_ref);
  std::optional<ObjectRef> target = CurrentTarget();
  if (!target || TargetKind(*target) != "llvm") return mod_ref;
  Array<String> entries = PublicRelaxFunctions(mod);
  if (entries.empty()) return mod_ref;
  Array<ObjectRef> patterns = patterns_with_prefix("project_llm.");
  if (patterns.empty()) return mod_ref;
  ObjectRef fuse =
      Global("relax.transform.FuseOpsByPattern")(patterns, false, true, entries).cast<ObjectRef>();
  tir::IRModule fused(run_pass(fuse, mod));
  if (!HasProjectLLMCalls(fused)) return mod_ref;
  ObjectRef codegen =
      Global("relax.transform.RunCodegen")(Map<String, Any>(), entries).cast<ObjectRef>();
  ObjectRef out = run_pass(codegen, fused);
  std::set<std::string> kept;
  for (const auto& [gv, func] : tir::IRModule(out).functions()) {
    kept.insert(tir::GlobalVar(gv.cast<ObjectRef>()).name_hint());
  }
  for (const auto& [gv, func] : mod.functions()) {
    tir::GlobalVar var(gv.cast<ObjectRef>());
    if (!kept.count(std::string(var.name_hint()))) {
      out = module_add(out, var, func.cast<ObjectRef>(), false);
    }
  }
  return out;
}

}  // namespace
}  // namespace project_llm

TVM_EXTEND_REGISTER_CODEGEN("project_llm", project_llm::MakeCodegenSpec);
TVM_EXTEND_REGISTER_FUNC("project_llm.codegen.tile", project_llm::TileOf);
TVM_EXTEND_REGISTER_MODULE_PASS("project_llm.transform.OffloadMatmul", project_llm::OffloadMatmul,
                                0);
TVM_EXTEND_CONTRIBUTE_PASS("project_llm.transform.OffloadMatmul", "relax", "default", "before",
                           "LegalizeOps");
