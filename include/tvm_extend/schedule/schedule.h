/*!
 * \file tvm_extend/schedule/schedule.h
 * \brief TVM's schedule (tvm.s_tir.Schedule) from C++, through its registered functions, with
 *        every signature checked against the running TVM when the extension loads.
 *
 * \code
 * using namespace tvm_extend::schedule;
 * Schedule sch = Schedule::Traced(mod);
 * SBlockRV block = sch.GetSBlock("C");
 * auto loops = sch.GetLoops(block);
 * auto parts = sch.Split(loops[0], {std::nullopt, Int(8)});
 * sch.Vectorize(parts[1]);
 * \endcode
 *
 * Composite primitives built from these should be atomic: check legality first, then use
 * Atomically(), which runs the steps on a copy and only then on the schedule itself, so a
 * failure leaves the schedule (and its function) exactly as it was.
 */
#ifndef TVM_EXTEND_SCHEDULE_SCHEDULE_H_
#define TVM_EXTEND_SCHEDULE_SCHEDULE_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/optional.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/view.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace schedule {

/*! \brief A random variable of a schedule: a block or a loop. */
#define TVM_EXTEND_SCHEDULE_RV(Name, key)                                             \
  class Name : public ::tvm_extend::ir::NodeRef {                                     \
   public:                                                                            \
    static constexpr const char* kTypeKey = key;                                      \
    Name() = default;                                                                 \
    explicit Name(const tvm::ffi::ObjectRef& ref) : ::tvm_extend::ir::NodeRef(ref) {} \
  }
TVM_EXTEND_SCHEDULE_RV(SBlockRV, "s_tir.SBlockRV");
TVM_EXTEND_SCHEDULE_RV(LoopRV, "s_tir.LoopRV");
TVM_EXTEND_SCHEDULE_RV(ScheduleRef, "s_tir.Schedule");
TVM_EXTEND_SCHEDULE_RV(IRModuleRef, "ir.IRModule");
TVM_EXTEND_SCHEDULE_RV(IndexMapRef, "tirx.IndexMap");
#undef TVM_EXTEND_SCHEDULE_RV

namespace detail {
using ir::GlobalFunction;
using tvm::ffi::Array;
using tvm::ffi::ObjectRef;
using tvm::ffi::Optional;
using tvm::ffi::String;
#define TVM_EXTEND_SCHEDULE_FN(name, sig) \
  inline GlobalFunction<sig> name { "s_tir.schedule." #name }
TVM_EXTEND_SCHEDULE_FN(TracedSchedule, ScheduleRef(IRModuleRef, int64_t, int64_t, int64_t, bool));
TVM_EXTEND_SCHEDULE_FN(ScheduleGetMod, IRModuleRef(ScheduleRef));
TVM_EXTEND_SCHEDULE_FN(ScheduleCopy, ScheduleRef(ScheduleRef));
TVM_EXTEND_SCHEDULE_FN(ScheduleGet, ObjectRef(ScheduleRef, ObjectRef));
TVM_EXTEND_SCHEDULE_FN(ScheduleGetSBlock, SBlockRV(ScheduleRef, String, Optional<String>));
TVM_EXTEND_SCHEDULE_FN(ScheduleGetLoops, Array<ObjectRef>(ScheduleRef, SBlockRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleGetChildBlocks, Array<ObjectRef>(ScheduleRef, ObjectRef));
TVM_EXTEND_SCHEDULE_FN(ScheduleGetProducers, Array<ObjectRef>(ScheduleRef, SBlockRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleGetConsumers, Array<ObjectRef>(ScheduleRef, SBlockRV));
TVM_EXTEND_SCHEDULE_FN(GetSBlockRealize, ObjectRef(ScheduleRef, SBlockRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleWorkOn, void(ScheduleRef, String));
TVM_EXTEND_SCHEDULE_FN(ScheduleSplit,
                       Array<ObjectRef>(ScheduleRef, LoopRV, Array<ObjectRef>, bool, bool));
TVM_EXTEND_SCHEDULE_FN(ScheduleReorder, void(ScheduleRef, Array<ObjectRef>));
TVM_EXTEND_SCHEDULE_FN(ScheduleFuse, LoopRV(ScheduleRef, Array<ObjectRef>, bool));
TVM_EXTEND_SCHEDULE_FN(ScheduleParallel, void(ScheduleRef, LoopRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleVectorize, void(ScheduleRef, LoopRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleUnroll, void(ScheduleRef, LoopRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleCacheRead,
                       SBlockRV(ScheduleRef, SBlockRV, int64_t, String, Array<ObjectRef>));
TVM_EXTEND_SCHEDULE_FN(ScheduleCacheWrite,
                       SBlockRV(ScheduleRef, SBlockRV, int64_t, String, Array<ObjectRef>));
TVM_EXTEND_SCHEDULE_FN(ScheduleComputeAt, void(ScheduleRef, SBlockRV, LoopRV, bool, int64_t));
TVM_EXTEND_SCHEDULE_FN(ScheduleReverseComputeAt,
                       void(ScheduleRef, SBlockRV, LoopRV, bool, int64_t));
TVM_EXTEND_SCHEDULE_FN(ScheduleComputeInline, void(ScheduleRef, SBlockRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleReverseComputeInline, void(ScheduleRef, SBlockRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleDecomposeReduction, SBlockRV(ScheduleRef, SBlockRV, LoopRV));
TVM_EXTEND_SCHEDULE_FN(ScheduleTransformLayout, void(ScheduleRef, SBlockRV, int64_t, int64_t,
                                                     IndexMapRef, Optional<ObjectRef>, bool));
TVM_EXTEND_SCHEDULE_FN(SchedulePadEinsum, void(ScheduleRef, SBlockRV, Array<int64_t>));
TVM_EXTEND_SCHEDULE_FN(ScheduleAnnotate, void(ScheduleRef, ObjectRef, String, tvm::ffi::Any));
#undef TVM_EXTEND_SCHEDULE_FN
inline GlobalFunction<IndexMapRef(Array<ObjectRef>, Array<ObjectRef>, Optional<ObjectRef>)>
    make_index_map{"tirx.IndexMap"};
}  // namespace detail

/*! \brief A handle to a tvm.s_tir.Schedule: the same object Python sees. */
class Schedule {
 public:
  explicit Schedule(const tvm::ffi::ObjectRef& sch) : sch_(sch) {}

  /*! \brief A new schedule of `mod` (an IRModule or a PrimFunc's module). */
  static Schedule Traced(const tvm::ffi::ObjectRef& mod, int64_t seed = -1) {
    // As tvm.s_tir.Schedule(mod) makes it: debug_mask 0, errors rendered in detail, checks on.
    return Schedule(detail::TracedSchedule(IRModuleRef(mod), seed, 0, 0, true));
  }
  const ScheduleRef& ref() const { return sch_; }
  tvm::ffi::ObjectRef mod() const { return detail::ScheduleGetMod(sch_); }
  Schedule Copy() const { return Schedule(detail::ScheduleCopy(sch_)); }
  /*! \brief The node a random variable stands for: an s_tir.SBlock or a tirx.For. */
  tvm::ffi::ObjectRef Get(const ir::NodeRef& rv) const { return detail::ScheduleGet(sch_, rv); }

  /*!
   * \brief Whether the function worked on has a block `name`. (TVM's own HasBlock looks at the
   *        whole module and answers false when it has several functions.)
   */
  /*! \brief Work on function `name` of the module (what GetSBlock and HasBlock look at). */
  void WorkOn(const std::string& name) const { detail::ScheduleWorkOn(sch_, name); }
  bool HasBlock(const std::string& name) const {
    try {
      GetSBlock(name);
      return true;
    } catch (const tvm::ffi::Error&) {
      return false;
    }
  }
  SBlockRV GetSBlock(const std::string& name) const {
    return detail::ScheduleGetSBlock(sch_, name, std::nullopt);
  }
  std::vector<LoopRV> GetLoops(const SBlockRV& block) const {
    return Loops(detail::ScheduleGetLoops(sch_, block));
  }
  std::vector<SBlockRV> GetProducers(const SBlockRV& block) const {
    return Blocks(detail::ScheduleGetProducers(sch_, block));
  }
  std::vector<SBlockRV> GetConsumers(const SBlockRV& block) const {
    return Blocks(detail::ScheduleGetConsumers(sch_, block));
  }
  /*! \brief The s_tir.SBlockRealize of a block: its iterator bindings and predicate. */
  tvm::ffi::ObjectRef GetSBlockRealize(const SBlockRV& block) const {
    return detail::GetSBlockRealize(sch_, block);
  }
  std::vector<SBlockRV> GetChildBlocks(const ir::NodeRef& block_or_loop) const {
    std::vector<SBlockRV> out;
    for (const auto& b : detail::ScheduleGetChildBlocks(sch_, block_or_loop)) out.emplace_back(b);
    return out;
  }

  /*! \brief Split a loop; std::nullopt for the one factor to infer. */
  std::vector<LoopRV> Split(const LoopRV& loop, const std::vector<std::optional<int64_t>>& factors,
                            bool preserve_unit_iters = true) const;
  void Reorder(const std::vector<LoopRV>& loops) const {
    detail::ScheduleReorder(sch_, Array(loops));
  }
  LoopRV Fuse(const std::vector<LoopRV>& loops) const {
    return detail::ScheduleFuse(sch_, Array(loops), true);
  }
  void Parallel(const LoopRV& loop) const { detail::ScheduleParallel(sch_, loop); }
  void Vectorize(const LoopRV& loop) const { detail::ScheduleVectorize(sch_, loop); }
  void Unroll(const LoopRV& loop) const { detail::ScheduleUnroll(sch_, loop); }
  /*! \brief A copy of a read buffer; only `consumers` read it (all readers if empty). */
  SBlockRV CacheRead(const SBlockRV& block, int64_t index, const std::string& scope,
                     const std::vector<SBlockRV>& consumers = {}) const {
    return detail::ScheduleCacheRead(sch_, block, index, scope, Array(consumers));
  }
  SBlockRV CacheWrite(const SBlockRV& block, int64_t index, const std::string& scope) const {
    return detail::ScheduleCacheWrite(sch_, block, index, scope, {});
  }
  void ComputeAt(const SBlockRV& block, const LoopRV& loop,
                 bool preserve_unit_loops = false) const {
    detail::ScheduleComputeAt(sch_, block, loop, preserve_unit_loops, -1);
  }
  void ReverseComputeAt(const SBlockRV& block, const LoopRV& loop) const {
    detail::ScheduleReverseComputeAt(sch_, block, loop, false, -1);
  }
  void ComputeInline(const SBlockRV& block) const { detail::ScheduleComputeInline(sch_, block); }
  void ReverseComputeInline(const SBlockRV& block) const {
    detail::ScheduleReverseComputeInline(sch_, block);
  }
  SBlockRV DecomposeReduction(const SBlockRV& block, const LoopRV& loop) const {
    return detail::ScheduleDecomposeReduction(sch_, block, loop);
  }
  /*!
   * \brief Change the layout of a block's read (`write` false) or written buffer `index` to
   *        `index_map` (see MakeIndexMap).
   */
  void TransformLayout(const SBlockRV& block, int64_t index, bool write,
                       const tvm::ffi::ObjectRef& index_map) const {
    detail::ScheduleTransformLayout(sch_, block, index, write ? 1 : 0, IndexMapRef(index_map),
                                    std::nullopt, false);
  }
  void PadEinsum(const SBlockRV& block, const std::vector<int64_t>& padding) const {
    detail::SchedulePadEinsum(sch_, block, tvm::ffi::Array<int64_t>(padding));
  }
  void Annotate(const ir::NodeRef& rv, const std::string& key, tvm::ffi::Any value) const {
    detail::ScheduleAnnotate(sch_, rv, key, std::move(value));
  }

 private:
  template <typename T>
  static tvm::ffi::Array<tvm::ffi::ObjectRef> Array(const std::vector<T>& items) {
    tvm::ffi::Array<tvm::ffi::ObjectRef> out;
    for (const T& item : items) out.push_back(item);
    return out;
  }
  static std::vector<SBlockRV> Blocks(const tvm::ffi::Array<tvm::ffi::ObjectRef>& rvs) {
    std::vector<SBlockRV> out;
    for (const auto& rv : rvs) out.emplace_back(rv);
    return out;
  }
  static std::vector<LoopRV> Loops(const tvm::ffi::Array<tvm::ffi::ObjectRef>& rvs) {
    std::vector<LoopRV> out;
    for (const auto& rv : rvs) out.emplace_back(rv);
    return out;
  }

  ScheduleRef sch_;
};

/*!
 * \brief An index map for TransformLayout: `inputs` (new ir.Var) to `outputs` (expressions of
 *        them), e.g. (i, k) -> (i // 8, k, i % 8).
 */
inline tvm::ffi::ObjectRef MakeIndexMap(const std::vector<tvm::ffi::ObjectRef>& inputs,
                                        const std::vector<tvm::ffi::ObjectRef>& outputs) {
  return detail::make_index_map(tvm::ffi::Array<tvm::ffi::ObjectRef>(inputs),
                                tvm::ffi::Array<tvm::ffi::ObjectRef>(outputs), std::nullopt);
}

/*!
 * \brief Run `steps(schedule)` all or nothing: first on a copy, so that an error (a legality
 *        check of TVM's or of the caller's) is raised before `sch` changes; then on `sch`.
 *        Random variables taken from `sch` before the call are valid on the copy too.
 */
template <typename F>
auto Atomically(const Schedule& sch, F&& steps) {
  steps(sch.Copy());
  return steps(sch);
}

}  // namespace schedule
}  // namespace tvm_extend

#include <tvm_extend/ir/tir.h>  // IntImm for Split's factors

namespace tvm_extend {
namespace schedule {
inline std::vector<LoopRV> Schedule::Split(const LoopRV& loop,
                                           const std::vector<std::optional<int64_t>>& factors,
                                           bool preserve_unit_iters) const {
  tvm::ffi::Array<tvm::ffi::ObjectRef> fs;
  for (const auto& f : factors) {
    fs.push_back(f ? tvm::ffi::ObjectRef(tir::IntImm::Make(DLDataType{kDLInt, 32, 1}, *f))
                   : tvm::ffi::ObjectRef());
  }
  return Loops(detail::ScheduleSplit(sch_, loop, fs, preserve_unit_iters, false));
}
}  // namespace schedule
}  // namespace tvm_extend
#endif  // TVM_EXTEND_SCHEDULE_SCHEDULE_H_
