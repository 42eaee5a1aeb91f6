/*!
 * \file schedule.cc
 * \brief `project_llm.transform.ScheduleCPUKernels`: TVM's default Relax pipeline for a CPU
 *        legalizes every op to a PrimFunc that runs as one serial, scalar loop nest (SiLU,
 *        softmax, RMSNorm, transposes...). This module pass gives each such kernel a simple CPU
 *        schedule with the kit's Schedule (TVM's own primitives, which check legality):
 *
 * - an elementwise block with a single consumer is inlined into it (SiLU's sigmoid into the
 *   multiply);
 * - a spatial block: the innermost loop split by the vector width of the target's CPU (16
 *   float32 lanes with AVX-512) and vectorized, the loops above it fused and run in parallel;
 * - a block with a reduction (softmax's max and sum, a norm's mean square): its leading
 *   spatial loops fused and run in parallel (each row reduced by one thread).
 *
 * Functions already scheduled (`tirx.is_scheduled`, a loop that is not serial), without blocks,
 * with symbolic extents, or that TVM refuses a step for are left as they were. Contributed to
 * TVM's default Relax pipeline after RewriteDataflowReshape (which must still see reshapes as
 * TVM made them), for llvm targets only.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/func_attr.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/substitute.h>
#include <tvm_extend/schedule/schedule.h>
#include <tvm_extend/transform/relax_pass.h>

#include <string>
#include <vector>

#include "common.h"

namespace project_llm {
namespace {

using tvm_extend::schedule::LoopRV;
using tvm_extend::schedule::SBlockRV;
using tvm_extend::schedule::Schedule;

tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, String, Any)> with_attr{"ir.BaseFuncWithAttr"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, Map<Any, Any>)> module_from_expr{
    "ir.Module_FromExpr"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, String)> module_lookup{"ir.Module_Lookup_str"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, ObjectRef, ObjectRef, bool)> module_add{
    "ir.Module_Add"};

constexpr int32_t kDataPar = 0, kCommReduce = 2;
// Below this many iterations a parallel launch costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 17;

std::vector<SBlockRV> RootBlocks(const Schedule& sch) {
  return sch.GetChildBlocks(sch.GetSBlock("root"));
}

bool IsSpatial(const tir::SBlock& block) {
  for (const tir::IterVar& iv : block.iter_vars()) {
    if (iv.iter_type() != kDataPar) return false;
  }
  return true;
}

bool AllLoopsSerial(const Schedule& sch) {
  for (const SBlockRV& block : RootBlocks(sch)) {
    for (const LoopRV& loop : sch.GetLoops(block)) {
      if (tir::For(sch.Get(loop)).kind() != 0) return false;
    }
  }
  return true;
}

// Inline elementwise producers that have one consumer; TVM refuses what it cannot inline.
void InlineElementwise(const Schedule& sch) {
  bool again = true;
  while (again) {
    again = false;
    for (const SBlockRV& block : RootBlocks(sch)) {
      if (!IsSpatial(tir::SBlock(sch.Get(block)))) continue;
      if (sch.GetConsumers(block).size() != 1) continue;
      try {
        sch.ComputeInline(block);
        again = true;
        break;
      } catch (const tvm::ffi::Error&) {  // an output block, a non-injective body: kept
      }
    }
  }
}

int64_t LanesFor(int64_t extent, int64_t lanes) {
  while (lanes > 1 && extent % lanes != 0) lanes /= 2;
  return lanes;
}

// Parallel and vectorized loops for one block.
void ScheduleBlock(const Schedule& sch, const SBlockRV& block_rv, int64_t vector_bits) {
  std::vector<LoopRV> loops = sch.GetLoops(block_rv);
  if (loops.empty()) return;
  tir::SBlockRealize realize(sch.GetSBlockRealize(block_rv));
  tir::SBlock block = realize.block();
  tvm_extend::ir::List<tir::IterVar> iters = block.iter_vars();
  tvm_extend::ir::List<tir::Expr> values = realize.iter_values();
  for (const tir::IterVar& iv : iters) {
    if (iv.iter_type() != kDataPar && iv.iter_type() != kCommReduce) return;
  }
  std::vector<int64_t> extents;
  size_t spatial = 0;
  bool leading = true;
  int64_t work = 1;
  for (const LoopRV& rv : loops) {
    tir::For loop(sch.Get(rv));
    tir::IntImm extent = loop.extent().as<tir::IntImm>();
    if (!extent.defined()) return;  // symbolic: left alone
    extents.push_back(extent.value());
    work *= extent.value();
    bool reduces = false;
    for (int64_t i = 0; i < iters.size(); ++i) {
      if (iters[i].iter_type() == kCommReduce &&
          tvm_extend::tir::UsesVar(values[i], loop.loop_var())) {
        reduces = true;
      }
    }
    if (reduces) leading = false;
    if (leading) ++spatial;
  }
  if (spatial == 0) return;
  std::vector<LoopRV> outer(loops.begin(), loops.begin() + spatial);
  if (spatial == loops.size() && block.writes().size() == 1) {
    tir::BufferType out = block.writes()[0].source().ty().as<tir::BufferType>();
    const int64_t bits = out.defined() ? out.dtype().dtype().bits : 32;
    const int64_t lanes = LanesFor(extents.back(), vector_bits / (bits > 0 ? bits : 32));
    if (lanes >= 2) {
      std::vector<LoopRV> split = sch.Split(loops.back(), {std::nullopt, lanes});
      sch.Vectorize(split[1]);
      outer.back() = split[0];
    }
  }
  if (work < kMinParallelWork) return;
  LoopRV fused = outer.size() > 1 ? sch.Fuse(outer) : outer[0];
  sch.Parallel(fused);
}

// The constant extents of `loops`, or nothing when one is symbolic.
std::optional<std::vector<int64_t>> Extents(const Schedule& sch, const std::vector<LoopRV>& loops) {
  std::vector<int64_t> out;
  for (const LoopRV& rv : loops) {
    tir::IntImm extent = tir::For(sch.Get(rv)).extent().as<tir::IntImm>();
    if (!extent.defined()) return std::nullopt;
    out.push_back(extent.value());
  }
  return out;
}

// Split `loop` (of constant extent) by the vector width and vectorize the inner part.
void VectorizeInnermost(const Schedule& sch, const SBlockRV& block, int64_t vector_bits) {
  std::vector<LoopRV> loops = sch.GetLoops(block);
  std::optional<std::vector<int64_t>> extents = Extents(sch, loops);
  if (loops.empty() || !extents) return;
  tir::SBlock b(sch.Get(block));
  if (!IsSpatial(b) || b.writes().size() != 1) return;
  tir::BufferType out = b.writes()[0].source().ty().as<tir::BufferType>();
  const int64_t bits =
      out.defined() && out.dtype().dtype().bits > 0 ? out.dtype().dtype().bits : 32;
  const int64_t lanes = LanesFor(extents->back(), vector_bits / bits);
  if (lanes < 2) return;
  std::vector<LoopRV> split = sch.Split(loops.back(), {std::nullopt, lanes});
  sch.Vectorize(split[1]);
}

/*!
 * rief A kernel of several blocks whose last block is spatial (softmax; a norm): one parallel
 *        loop over the output's rows (every loop but the innermost), every other block computed
 *        under it for its row, the spatial blocks vectorized. One parallel launch instead of one
 *        per block. False (the schedule unchanged) when it does not apply.
 */
bool RowWise(Schedule& sch, int64_t vector_bits) {
  std::vector<SBlockRV> blocks = RootBlocks(sch);
  if (blocks.size() < 2) return false;
  const SBlockRV& out = blocks.back();
  if (!IsSpatial(tir::SBlock(sch.Get(out)))) return false;
  std::vector<LoopRV> loops = sch.GetLoops(out);
  std::optional<std::vector<int64_t>> extents = Extents(sch, loops);
  if (loops.size() < 2 || !extents) return false;
  int64_t work = 1;
  for (int64_t e : *extents) work *= e;
  Schedule trial = sch.Copy();  // applied only when every producer moves under the row loop
  try {
    std::vector<LoopRV> trial_loops = trial.GetLoops(out);
    LoopRV row = trial.Fuse(std::vector<LoopRV>(trial_loops.begin(), trial_loops.end() - 1));
    std::vector<SBlockRV> trial_blocks = RootBlocks(trial);
    for (size_t i = trial_blocks.size() - 1; i-- > 0;) trial.ComputeAt(trial_blocks[i], row);
    for (const SBlockRV& block : trial.GetChildBlocks(row)) {
      VectorizeInnermost(trial, block, vector_bits);
    }
    if (work >= kMinParallelWork) trial.Parallel(row);
  } catch (const tvm::ffi::Error&) {
    return false;
  }
  sch = trial;
  return true;
}

// `func` scheduled, or nothing when it is left as it was.
std::optional<tir::PrimFunc> ScheduleKernel(const tir::PrimFunc& func, int64_t vector_bits) {
  if (tvm_extend::tir::GetAttr(func, "tirx.is_scheduled") != nullptr ||
      tvm_extend::tir::GetAttr(func, "tir.is_scheduled") != nullptr) {
    return std::nullopt;
  }
  const bool named = tvm_extend::tir::GetAttr(func, "global_symbol") != nullptr;
  const std::string symbol =
      named ? std::string(*tvm_extend::tir::GetAttr<String>(func, "global_symbol")) : "kernel";
  ObjectRef with_symbol =
      named ? ObjectRef(func) : with_attr(func, "global_symbol", String(symbol));
  Schedule sch = Schedule::Traced(module_from_expr(with_symbol, {}));
  sch.WorkOn(symbol);
  if (!sch.HasBlock("root") || !AllLoopsSerial(sch)) return std::nullopt;
  InlineElementwise(sch);
  if (RowWise(sch, vector_bits)) {
    tir::PrimFunc out(module_lookup(sch.mod(), String(symbol)));
    return named ? out : tvm_extend::tir::WithoutAttr(out, "global_symbol");
  }
  for (const SBlockRV& block : RootBlocks(sch)) {
    try {
      ScheduleBlock(sch, block, vector_bits);
    } catch (const tvm::ffi::Error&) {  // a step TVM refuses: the steps before it stay (each
    }  // one keeps the program valid)
  }
  tir::PrimFunc out(module_lookup(sch.mod(), String(symbol)));
  if (!named) out = tvm_extend::tir::WithoutAttr(out, "global_symbol");
  return out;
}

ObjectRef ScheduleCPUKernels(ObjectRef mod_ref, ObjectRef) {
  std::optional<ObjectRef> target = CurrentTarget();
  if (!target || TargetKind(*target) != "llvm") return mod_ref;
  const int64_t vector_bits = VectorLanes(*target) * 32;
  ObjectRef out = mod_ref;
  for (const auto& [gv, func] : tir::IRModule(mod_ref).functions()) {
    ObjectRef f = func.cast<ObjectRef>();
    if (!tir::PrimFunc::IsInstance(f)) continue;
    std::optional<tir::PrimFunc> scheduled;
    try {
      scheduled = ScheduleKernel(tir::PrimFunc(f), vector_bits);
    } catch (const tvm::ffi::Error&) {  // a step TVM refuses: the kernel stays as it was
      scheduled = std::nullopt;
    }
    if (scheduled) out = module_add(out, gv.cast<ObjectRef>(), *scheduled, true);
  }
  return out;
}

}  // namespace
}  // namespace project_llm

TVM_EXTEND_REGISTER_MODULE_PASS("project_llm.transform.ScheduleCPUKernels",
                                project_llm::ScheduleCPUKernels, 0);
TVM_EXTEND_CONTRIBUTE_PASS("project_llm.transform.ScheduleCPUKernels", "relax", "default", "after",
                           "RewriteDataflowReshape");
