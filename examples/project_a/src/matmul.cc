/*!
 * \file matmul.cc
 * \brief A register-blocked matmul for CPUs, as schedule building blocks on top of TVM's
 *        schedule:
 *
 * - `project_a.schedule.matmul_microkernel(sch, block, mr, nr, nc, parallel)`: a composite
 *   primitive. It pads M and N to the micro-kernel (pad_einsum), packs A into [M/mr, K, mr] and
 *   B into [N/nr, K, nr] panels (cache_read/transform_layout), tiles the loops so that an
 *   mr x nr accumulator tile stays in vector registers over the whole K loop (cache_write,
 *   reverse_compute_at, unroll, vectorize), and runs row panels in parallel.
 * - `project_a.schedule.check_matmul(sch, block)`: its legality check: "" or why not.
 * - `project_a.schedule.apply_rules(sch)`: the rule: the primitive on every block that passes
 *   the check, in every function of the schedule's module.
 * - `project_a.transform.AutoSchedule`: a pass that applies the rule to CPU functions.
 * - `project_a.tile`: a pass config option, `PassContext(config={"project_a.tile": "4x8"})`,
 *   that sets the tile the rule, the pass and default_tile use (default: from CPU features).
 *
 * The primitive checks legality first and applies its steps atomically, so an illegal request
 * raises a clear error and leaves the schedule and its function unchanged.
 */
#include <tvm_extend/config/config.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/object/object.h>
#include <tvm_extend/schedule/schedule.h>
#include <tvm_extend/transform/prim_func_pass.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace project_a {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::ir::GlobalFunction;
using tvm_extend::schedule::LoopRV;
using tvm_extend::schedule::SBlockRV;
using tvm_extend::schedule::Schedule;

constexpr int32_t kDataPar = 0;
constexpr int32_t kCommReduce = 2;

/*! \brief What the check learned about a matmul block C[i, j] += A[i, k] * B[k, j]. */
struct Matmul {
  std::string name;
  Var a, b, c;
  int64_t m = 0, n = 0, k = 0;
  int64_t read_a = -1, read_b = -1;  // their indices among the block's reads
};

bool IsVar(const Expr& e, const Var& v) { return e.as<Var>().defined() && e.same_as(v); }

bool IsLoad(const Expr& e, const Var& buffer, const Var& i0, const Var& i1) {
  TensorLoad load = e.as<TensorLoad>();
  if (!load.defined() || !load.source().same_as(buffer) || load.indices().size() != 2) {
    return false;
  }
  return IsVar(load.indices()[0], i0) && IsVar(load.indices()[1], i1);
}

// The buffer `e` loads from at (i0, i1), if it does.
Var LoadedAt(const Expr& e, const Var& i0, const Var& i1) {
  TensorLoad load = e.as<TensorLoad>();
  if (!load.defined() || load.indices().size() != 2) return Var();
  if (!IsVar(load.indices()[0], i0) || !IsVar(load.indices()[1], i1)) return Var();
  return load.source().as<Var>();
}

bool IsFloat32(const Var& buffer) {
  BufferType t = buffer.ty().as<BufferType>();
  if (!t.defined()) return false;
  DLDataType d = t.dtype().dtype();
  return d.code == kDLFloat && d.bits == 32 && d.lanes == 1;
}

std::optional<int64_t> ConstExtent(const IterVar& iv) {
  IntImm extent = iv.dom().extent().as<IntImm>();
  if (!extent.defined()) return std::nullopt;
  return extent.value();
}

// Why `rv` is not a matmul this primitive can schedule, or "" (and `out` filled) if it is.
std::string Check(const Schedule& sch, const SBlockRV& rv, Matmul* out) {
  SBlock block(sch.Get(rv));
  out->name = block.name_hint();
  auto iters = block.iter_vars();
  if (iters.size() != 3) return "it has " + std::to_string(iters.size()) + " iterators, not 3";
  std::vector<IterVar> spatial, reduce;
  for (const IterVar& iv : iters) {
    if (iv.iter_type() == kDataPar) spatial.push_back(iv);
    if (iv.iter_type() == kCommReduce) reduce.push_back(iv);
  }
  if (spatial.size() != 2 || reduce.size() != 1) {
    return "its iterators are not two spatial ones and one reduction";
  }
  Var vi = spatial[0].var(), vj = spatial[1].var(), vk = reduce[0].var();
  BufferStore store = block.body().as<BufferStore>();
  if (!store.defined()) return "its body is not a single store";
  Var c = store.buffer();
  if (store.indices().size() != 2 || !IsVar(store.indices()[0], vi) ||
      !IsVar(store.indices()[1], vj)) {
    return "it does not store to C[i, j]";
  }
  Add add = store.value().as<Add>();
  if (!add.defined()) return "its update is not C[i, j] + A[i, k] * B[k, j]";
  Expr product = IsLoad(add.a(), c, vi, vj)   ? add.b()
                 : IsLoad(add.b(), c, vi, vj) ? add.a()
                                              : Expr();
  Mul mul = product.defined() ? product.as<Mul>() : Mul();
  if (!mul.defined()) return "its update is not C[i, j] + A[i, k] * B[k, j]";
  Var a = LoadedAt(mul.a(), vi, vk), b = LoadedAt(mul.b(), vk, vj);
  if (!a.defined() || !b.defined()) {
    a = LoadedAt(mul.b(), vi, vk);
    b = LoadedAt(mul.a(), vk, vj);
  }
  if (!a.defined() || !b.defined()) {
    return "its operands are not A[i, k] and B[k, j] (a transposed operand is not supported)";
  }
  BufferStore init = block.init().defined() ? block.init().as<BufferStore>() : BufferStore();
  FloatImm zero = init.defined() ? init.value().as<FloatImm>() : FloatImm();
  if (!zero.defined() || zero.value() != 0.0 || !init.buffer().same_as(c)) {
    return "it does not start from C[i, j] = 0";
  }
  for (const Var& buffer : {a, b, c}) {
    if (!IsFloat32(buffer)) return "'" + std::string(buffer.name()) + "' is not float32";
  }
  auto m = ConstExtent(spatial[0]), n = ConstExtent(spatial[1]), k = ConstExtent(reduce[0]);
  if (!m || !n || !k) return "its extents are not constants";
  if (a.same_as(b) || a.same_as(c) || b.same_as(c)) return "A, B and C are not three buffers";
  std::vector<LoopRV> loops = sch.GetLoops(rv);
  if (loops.size() != 3) return "its loops are already scheduled";
  // The loops must be i, j, k in this order, bound one to one, from 0, with no predicate.
  SBlockRealize realize(sch.GetSBlockRealize(rv));
  IntImm predicate = realize.predicate().as<IntImm>();
  if (!predicate.defined() || predicate.value() != 1) return "it has a predicate";
  const Var order[3] = {vi, vj, vk};
  for (int r = 0; r < 3; ++r) {
    For loop(sch.Get(loops[r]));
    IterVar iv = r < 2 ? spatial[r] : reduce[0];
    IntImm min = iv.dom().min().as<IntImm>();
    if (!min.defined() || min.value() != 0) return "its iterators do not start at 0";
    int index = -1;
    for (int64_t q = 0; q < iters.size(); ++q) {
      if (iters[q].var().same_as(order[r])) index = static_cast<int>(q);
    }
    if (!IsVar(realize.iter_values()[index], loop.loop_var())) {
      return "its loops are not i, j, k in this order, each bound to one iterator";
    }
  }
  auto reads = block.reads();
  for (int64_t r = 0; r < reads.size(); ++r) {
    if (reads[r].source().same_as(a)) out->read_a = r;
    if (reads[r].source().same_as(b)) out->read_b = r;
  }
  if (out->read_a < 0 || out->read_b < 0) return "its read regions do not list A and B";
  out->a = a;
  out->b = b;
  out->c = c;
  out->m = *m;
  out->n = *n;
  out->k = *k;
  return "";
}

GlobalFunction<Var(tvm::ffi::String, Type, tvm::ffi::ObjectRef)> make_var{"ir.Var"};

// (r, k) -> (r // tile, k, r % tile), or (k, c) -> (c // tile, k, c % tile) for B.
tvm::ffi::ObjectRef PanelMap(int64_t tile, bool columns) {
  Var x = make_var("x", PrimType::Make(DLDataType{kDLInt, 32, 1}), {});
  Var y = make_var("y", PrimType::Make(DLDataType{kDLInt, 32, 1}), {});
  Var outer = columns ? y : x;
  Var inner = columns ? x : y;
  return tvm_extend::schedule::MakeIndexMap({x, y},
                                            {floordiv(outer, tile), inner, floormod(outer, tile)});
}

// The block that produces `buffer` for `block`.
SBlockRV ProducerOf(const Schedule& sch, const SBlockRV& block, const Expr& buffer) {
  for (const SBlockRV& producer : sch.GetProducers(block)) {
    for (const TensorRegion& w : SBlock(sch.Get(producer)).writes()) {
      if (w.source().same_as(buffer)) return producer;
    }
  }
  throw tvm::ffi::Error("InternalError", "no block produces the padded operand", "");
}

SBlockRV Pack(const Schedule& sch, const SBlockRV& block, const Var& buffer, int64_t read_index,
              int64_t tile, bool columns) {
  Expr read = SBlock(sch.Get(block)).reads()[read_index].source();
  if (!read.same_as(buffer)) {  // pad_einsum made a padded copy: give it the panel layout
    SBlockRV copy = ProducerOf(sch, block, read);
    sch.TransformLayout(copy, 0, true, PanelMap(tile, columns));
    return copy;
  }
  SBlockRV copy = sch.CacheRead(block, read_index, "global", {block});  // other readers keep A
  sch.TransformLayout(block, read_index, false, PanelMap(tile, columns));
  return copy;
}

// The tile layout of the micro-kernel, an object type of this extension (project_a.TileLayout):
// the rule and the primitive schedule with it, default_tile returns it, and the AutoSchedule pass
// records it on each function it schedules (attribute "project_a.tile_layout").
class TileLayoutObj : public tvm::ffi::Object {
 public:
  int64_t mr = 6;              // rows of the accumulator tile (rows of A per panel)
  int64_t nr = 16;             // columns of the accumulator tile (columns of B per panel)
  int64_t nc = 512;            // columns of B per block
  bool parallel = true;        // row panels in parallel
  tvm::ffi::String chosen_by;  // "avx512f", "avx2", "sse", "project_a.tile" or "arguments"
  TileLayoutObj() = default;
  TileLayoutObj(int64_t mr, int64_t nr, int64_t nc, bool parallel, tvm::ffi::String chosen_by)
      : mr(mr), nr(nr), nc(nc), parallel(parallel), chosen_by(std::move(chosen_by)) {}
  static constexpr TVMFFISEqHashKind _type_s_eq_hash_kind = kTVMFFISEqHashKindTreeNode;
  TVM_FFI_DECLARE_OBJECT_INFO_FINAL("project_a.TileLayout", TileLayoutObj, tvm::ffi::Object);
};
using Params = TileLayoutObj;
using Layout = tvm::ffi::ObjectPtr<TileLayoutObj>;

Layout MakeLayout(int64_t mr, int64_t nr, int64_t nc, bool parallel, const char* chosen_by) {
  return tvm::ffi::make_object<TileLayoutObj>(mr, nr, nc, parallel, chosen_by);
}

GlobalFunction<tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>(tvm::ffi::ObjectRef)> export_target{
    "target.TargetExport"};
GlobalFunction<bool(tvm::ffi::String, tvm::ffi::ObjectRef)> cpu_has_feature{
    "target.llvm_cpu_has_feature"};

// The tile for a CPU: as many accumulators as fit its vector registers, with room for one row of
// B and a broadcast of A. AVX-512: 32 registers, 7 x 2 zmm accumulators; AVX2: 16 registers,
// 6 x 2 ymm; otherwise 4 x 2 SSE registers.
Layout ForCpu(const tvm::ffi::ObjectRef& target) {
  if (cpu_has_feature("avx512f", target)) return MakeLayout(7, 32, 1024, true, "avx512f");
  if (cpu_has_feature("avx2", target)) return MakeLayout(6, 16, 512, true, "avx2");
  return MakeLayout(4, 8, 256, true, "sse");
}

// The pass config option project_a.tile (registered below): "MRxNR" or "MRxNRxNC" replaces the
// CPU's tile (nc: the CPU's, at least nr); "" keeps it.
const tvm_extend::config::PassConfig<tvm::ffi::String> tile_option{"project_a.tile", ""};

// The tile for a CPU target, as the current PassContext's project_a.tile may set it.
Layout ForTarget(const tvm::ffi::ObjectRef& target) {
  Layout p = ForCpu(target);
  const std::string text = tile_option.Get();
  if (text.empty()) return p;
  std::vector<int64_t> v;
  for (size_t start = 0; start != std::string::npos && v.size() < 4;) {
    const size_t end = text.find('x', start);
    const std::string part = text.substr(start, end == std::string::npos ? end : end - start);
    const bool number = !part.empty() && part.size() < 7 &&
                        part.find_first_not_of("0123456789") == std::string::npos;
    v.push_back(number ? std::stoll(part) : -1);
    start = end == std::string::npos ? end : end + 1;
  }
  const bool ok = (v.size() == 2 || v.size() == 3) && v[0] >= 1 && v[1] >= 4 && v[1] % 4 == 0 &&
                  (v.size() == 2 || v[2] >= v[1]);
  if (!ok) {
    throw tvm::ffi::Error("ValueError",
                          "pass config option project_a.tile is '" + text +
                              "'; expected \"MRxNR\" or \"MRxNRxNC\" (mr >= 1, nr a multiple of 4, "
                              "nc >= nr), e.g. \"6x16\"",
                          "");
  }
  p->mr = v[0];
  p->nr = v[1];
  p->nc = v.size() == 3 ? v[2] : std::max(p->nc, p->nr);
  p->chosen_by = "project_a.tile";
  return p;
}

void Apply(const Schedule& sch, const SBlockRV& block, const Matmul& mm, const Params& p) {
  if (mm.m % p.mr != 0 || mm.n % p.nr != 0) sch.PadEinsum(block, {p.mr, p.nr, 1});
  SBlockRV pack_a = Pack(sch, block, mm.a, mm.read_a, p.mr, false);
  SBlockRV pack_b = Pack(sch, block, mm.b, mm.read_b, p.nr, true);
  std::vector<LoopRV> loops = sch.GetLoops(block);
  const int64_t mp = (mm.m + p.mr - 1) / p.mr * p.mr;
  const int64_t np = (mm.n + p.nr - 1) / p.nr * p.nr;
  std::vector<LoopRV> is = sch.Split(loops[0], {mp / p.mr, p.mr});
  const int64_t panels = np / p.nr;
  int64_t per_block = std::max<int64_t>(1, std::min(p.nc / p.nr, panels));
  while (panels % per_block != 0) --per_block;  // an exact split: no predicate in the kernel
  std::vector<LoopRV> js = sch.Split(loops[1], {panels / per_block, per_block, p.nr});
  sch.Reorder({js[0], is[0], js[1], loops[2], is[1], js[2]});
  // The mr x nr accumulator tile: a small buffer LLVM keeps in registers over the K loop.
  SBlockRV acc = sch.CacheWrite(block, 0, "global");
  sch.ReverseComputeAt(acc, js[1]);
  // With padding the accumulator fills the padded C, which a copy block writes back to C:
  // store straight from the accumulator instead (predicated at the edges).
  for (const SBlockRV& consumer : sch.GetConsumers(acc)) {
    for (const TensorRegion& w : SBlock(sch.Get(consumer)).writes()) {
      if (w.source().same_as(mm.c)) sch.ReverseComputeInline(consumer);
    }
  }
  sch.Unroll(is[1]);
  sch.Vectorize(js[2]);
  if (p.parallel) sch.Parallel(is[0]);
  sch.DecomposeReduction(block, loops[2]);
  std::vector<LoopRV> b_loops = sch.GetLoops(pack_b);
  std::vector<LoopRV> b_inner = sch.Split(b_loops[1], {std::nullopt, p.nr});
  sch.Vectorize(b_inner[1]);
  if (p.parallel) sch.Parallel(b_loops[0]);
  // Each row panel of A is packed by the thread that uses it, k-major, while it stays in cache.
  sch.ComputeAt(pack_a, is[0], true);
  std::vector<LoopRV> a_loops = sch.GetLoops(pack_a);
  LoopRV rows = a_loops[a_loops.size() - 2], ks = a_loops[a_loops.size() - 1];
  sch.Reorder({ks, rows});
  sch.Unroll(rows);
}

SBlockRV BlockOf(const Schedule& sch, const tvm::ffi::Any& block) {
  if (auto name = block.try_cast<tvm::ffi::String>()) return sch.GetSBlock(*name);
  return SBlockRV(block.cast<tvm::ffi::ObjectRef>());
}

[[noreturn]] void Illegal(const std::string& block, const std::string& why) {
  throw tvm::ffi::Error("ValueError",
                        "project_a.schedule.matmul_microkernel: block '" + block +
                            "' is not a float32 matmul C[i, j] += A[i, k] * B[k, j] it can "
                            "schedule: " +
                            why + ". The schedule is unchanged.",
                        "");
}

void MatmulMicrokernel(tvm::ffi::ObjectRef sch_ref, tvm::ffi::Any block, int64_t mr, int64_t nr,
                       int64_t nc, bool parallel) {
  Schedule sch(sch_ref);
  SBlockRV rv = BlockOf(sch, block);
  Matmul mm;
  std::string why = Check(sch, rv, &mm);
  if (!why.empty()) Illegal(mm.name, why);
  if (mr < 1 || nr < 1 || nc < nr || nr % 4 != 0) {
    Illegal(mm.name, "the tile mr=" + std::to_string(mr) + ", nr=" + std::to_string(nr) +
                         ", nc=" + std::to_string(nc) +
                         " is not valid (mr >= 1, nr a multiple of 4, nc >= nr)");
  }
  const Params p(mr, nr, nc, parallel, "arguments");
  try {
    tvm_extend::schedule::Atomically(sch, [&](const Schedule& s) { Apply(s, rv, mm, p); });
  } catch (const tvm::ffi::Error& err) {
    Illegal(mm.name, "TVM refused a step: " + err.message());
  }
}

tvm::ffi::String CheckMatmul(tvm::ffi::ObjectRef sch_ref, tvm::ffi::Any block) {
  Schedule sch(sch_ref);
  Matmul mm;
  return Check(sch, BlockOf(sch, block), &mm);
}

// The rule: the primitive on every matmul block of function `func_name`; returns their names.
tvm::ffi::Array<tvm::ffi::String> ApplyRule(const Schedule& sch, const Params& p) {
  tvm::ffi::Array<tvm::ffi::String> done;
  std::vector<SBlockRV> todo;
  std::vector<SBlockRV> stack = sch.GetChildBlocks(sch.GetSBlock("root"));
  while (!stack.empty()) {
    SBlockRV rv = stack.back();
    stack.pop_back();
    Matmul mm;
    if (Check(sch, rv, &mm).empty()) {
      todo.push_back(rv);
    } else {
      for (const SBlockRV& child : sch.GetChildBlocks(rv)) stack.push_back(child);
    }
  }
  for (const SBlockRV& rv : todo) {
    Matmul mm;  // checked again: scheduling an earlier block may have changed this one's reads
    if (!Check(sch, rv, &mm).empty()) continue;
    try {
      tvm_extend::schedule::Atomically(sch, [&](const Schedule& s) { Apply(s, rv, mm, p); });
      done.push_back(mm.name);
    } catch (const tvm::ffi::Error&) {
      // A block the primitive cannot take after all stays as it was; the rule goes on.
    }
  }
  return done;
}

tvm::ffi::Array<tvm::ffi::String> ApplyRules(tvm::ffi::ObjectRef sch_ref,
                                             tvm::ffi::ObjectRef target) {
  Schedule sch(sch_ref);
  tvm::ffi::Array<tvm::ffi::String> done;
  IRModule mod(sch.mod());
  std::vector<std::string> names;
  for (const auto& [gv, func] : mod.functions()) {
    if (PrimFunc::IsInstance(func.cast<tvm::ffi::ObjectRef>())) {
      names.push_back(GlobalVar(gv.cast<tvm::ffi::ObjectRef>()).name_hint());
    }
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    sch.WorkOn(name);
    if (!sch.HasBlock("root")) continue;
    for (const tvm::ffi::String& block : ApplyRule(sch, *ForTarget(target))) {
      done.push_back(name + "/" + std::string(block));
    }
  }
  return done;
}

GlobalFunction<tvm::ffi::ObjectRef(tvm::ffi::ObjectRef,
                                   tvm::ffi::Map<tvm::ffi::Any, tvm::ffi::Any>)>
    module_from_expr{"ir.Module_FromExpr"};
GlobalFunction<tvm::ffi::ObjectRef(tvm::ffi::ObjectRef, tvm::ffi::String)> module_lookup{
    "ir.Module_Lookup_str"};

// The function's target, if it is a CPU (llvm, c) one.
std::optional<tvm::ffi::ObjectRef> CpuTarget(const PrimFunc& func) {
  DictAttrs attrs = func.attrs();
  if (!attrs.defined()) return std::nullopt;
  auto dict = attrs.__dict__();
  auto it = dict.find("target");
  if (it == dict.end()) return std::nullopt;
  auto target = (*it).second.cast<tvm::ffi::ObjectRef>();
  std::string kind = export_target(target)["kind"].cast<tvm::ffi::String>();
  if (kind != "llvm" && kind != "c") return std::nullopt;
  return target;
}

// The layout the rule and the pass use for `target`: a project_a.TileLayout.
tvm::ffi::ObjectRef DefaultTile(tvm::ffi::ObjectRef target) {
  return tvm::ffi::ObjectRef(ForTarget(target));
}

GlobalFunction<tvm::ffi::ObjectRef(tvm::ffi::ObjectRef, tvm::ffi::String, tvm::ffi::Any)> with_attr{
    "ir.BaseFuncWithAttr"};

tvm::ffi::ObjectRef AutoSchedule() {
  return tvm_extend::transform::MakePrimFuncPass(
      "project_a.transform.AutoSchedule",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        PrimFunc prim(func);
        std::optional<tvm::ffi::ObjectRef> target = CpuTarget(prim);
        if (!target) return func;
        IRModule mod(module_from_expr(func, {}));
        std::string name;
        for (const auto& [gv, f] : mod.functions()) {
          name = GlobalVar(gv.cast<tvm::ffi::ObjectRef>()).name_hint();
        }
        Schedule sch = Schedule::Traced(mod);
        sch.WorkOn(name);
        if (!sch.HasBlock("root")) return func;
        Layout layout = ForTarget(*target);
        if (ApplyRule(sch, *layout).empty()) return func;
        // The scheduled function says which layout it was given, for later passes and users.
        return with_attr(module_lookup(sch.mod(), name), "project_a.tile_layout",
                         tvm::ffi::ObjectRef(layout));
      },
      0);
}

}  // namespace
}  // namespace project_a

TVM_EXTEND_REGISTER_OBJECT(project_a::TileLayoutObj, [] {
  using project_a::TileLayoutObj;
  return tvm_extend::object::ObjectSpec<TileLayoutObj>("the register tile of the micro-kernel")
      .field("mr", &TileLayoutObj::mr, "rows of the accumulator tile")
      .field("nr", &TileLayoutObj::nr, "columns of the accumulator tile")
      .field("nc", &TileLayoutObj::nc, "columns of B per block")
      .field("parallel", &TileLayoutObj::parallel, "row panels in parallel")
      .field("chosen_by", &TileLayoutObj::chosen_by, "what chose it");
});
TVM_EXTEND_REGISTER_FUNC("project_a.schedule.matmul_microkernel", project_a::MatmulMicrokernel);
TVM_EXTEND_REGISTER_FUNC("project_a.schedule.check_matmul", project_a::CheckMatmul);
TVM_EXTEND_REGISTER_FUNC("project_a.schedule.apply_rules", project_a::ApplyRules);
TVM_EXTEND_REGISTER_FUNC("project_a.schedule.default_tile", project_a::DefaultTile);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("project_a.transform.AutoSchedule",
                                           project_a::AutoSchedule);
TVM_EXTEND_REGISTER_PASS_CONFIG("project_a.tile", tvm::ffi::String, "",
                                "the micro-kernel's tile, \"MRxNR\" or \"MRxNRxNC\" (e.g. "
                                "\"6x16\"); empty: chosen from the CPU's features");
