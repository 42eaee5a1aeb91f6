/*!
 * \file common.h
 * \brief What project_llm's sources share: Relax tensor types read through the typed views,
 *        the current target, TVM functions looked up when used, and the dense kernel (x @ w^T
 *        on project_a's micro-kernel) that both the codegen and FuseTransposeMatmul's op use.
 */
#ifndef PROJECT_LLM_COMMON_H_
#define PROJECT_LLM_COMMON_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/function.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/ir/relax.h>
#include <tvm_extend/ir/tir.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace project_llm {

namespace relax = tvm_extend::relax;
namespace tir = tvm_extend::tir;
using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::ObjectRef;
using tvm::ffi::String;

inline constexpr DLDataType kF32{kDLFloat, 32, 1};

inline bool IsF32(DLDataType t) { return t.code == kDLFloat && t.bits == 32 && t.lanes == 1; }

/*! \brief A tensor of static shape and known dtype, as a Relax type says (views only). */
struct StaticTensor {
  std::vector<int64_t> shape;
  DLDataType dtype;
};

/*! \brief `ty` as a tensor of static shape and known dtype; nothing for anything else (another
 *         type, an unknown dtype or rank, a symbolic dimension). */
inline std::optional<StaticTensor> StaticTensorOf(const tir::Type& ty) {
  relax::TensorType t = ty.as<relax::TensorType>();
  if (!t.defined() || !t.dtype().defined()) return std::nullopt;
  DLDataType dtype = t.dtype().dtype();
  if (dtype.code == kDLOpaqueHandle && dtype.bits == 0) return std::nullopt;  // void: unknown
  relax::ShapeExpr shape = t.shape().as<relax::ShapeExpr>();
  if (!shape.defined()) return std::nullopt;
  StaticTensor out{{}, dtype};
  for (const tir::Expr& dim : shape.values()) {
    tir::IntImm imm = dim.as<tir::IntImm>();
    if (!imm.defined()) return std::nullopt;
    out.shape.push_back(imm.value());
  }
  return out;
}
inline std::optional<StaticTensor> StaticTensorOfExpr(const tir::Expr& e) {
  return e.defined() ? StaticTensorOf(e.ty()) : std::nullopt;
}

/*! \brief A global function of TVM (or of an extension loaded later), looked up when used:
 *         TE and TOPI take packed arguments, and project_a may load after project_llm. */
Function Global(const char* name);

/*! \brief The current target (`with target:`; tvm.compile sets it), if any. */
std::optional<ObjectRef> CurrentTarget();
/*! \brief The kind of a target ("llvm", "cuda", ...). */
std::string TargetKind(const ObjectRef& target);

/*! \brief The register tile for a CPU: nr = one vector register of float32, mr = 8 rows. */
struct Tile {
  int64_t mr, nr;
};
Tile TileFor(const ObjectRef& target);
/*! \brief float32 lanes of one vector register of the target's CPU (16, 8 or 4). */
int64_t VectorLanes(const ObjectRef& target);

/*!
 * \brief Y = x @ w^T for x (..., M, K), w (N, K) as one PrimFunc named `symbol`, params in
 *        the order (x, w) unless `w_first`, then Y; scheduled as Y^T = w @ x^T on project_a's
 *        micro-kernel when project_a is loaded and `schedule` holds.
 */
tir::PrimFunc DenseKernel(const std::string& symbol, const std::vector<int64_t>& x_shape,
                          const std::vector<int64_t>& w_shape, bool w_first,
                          const ObjectRef& target, bool schedule = true);

/*! \brief The error of project_llm's codegen (relax.ext.project_llm) for `function`. */
[[noreturn]] void CodegenFail(const std::string& function, const std::string& why);

}  // namespace project_llm
#endif  // PROJECT_LLM_COMMON_H_
