/*!
 * \file passes.h
 * \brief The passes of the tir_passes example, each one free function returning a
 *        tvm.transform.Pass (as tvm::ffi::ObjectRef).
 */
#ifndef TIR_PASSES_PASSES_H_
#define TIR_PASSES_PASSES_H_

#include <tvm/ffi/object.h>

#include <cstdint>

namespace tir_passes {

/*! \brief Unroll `T.unroll` loops with a constant trip count, up to max_steps statements
 *         (negative: no limit). */
tvm::ffi::ObjectRef UnrollByAnnotation(int64_t max_steps);

/*! \brief Multiplication, division and modulo by 2^k to shifts and masks; truncating ones only
 *         where TVM's analyzer proves the dividend non-negative. */
tvm::ffi::ObjectRef StrengthReduce();

/*! \brief Hoist loop-invariant pure computations into bindings before their loop. */
tvm::ffi::ObjectRef LoopInvariantCodeMotion();

/*! \brief Remove statements that do nothing, as TVM's tirx.transform.RemoveNoOp() does. */
tvm::ffi::ObjectRef RemoveNoOp();

/*! \brief int64 loop variables, bindings and index expressions narrowed to `bits` wherever the
 *         analyzer proves them in range, as TVM's tirx.transform.NarrowDataType(bits) does. */
tvm::ffi::ObjectRef NarrowDataType(int64_t bits);

/*! \brief Loops of kind VECTORIZED with a constant extent become vector code (TVM's
 *         VectorizeLoop, written with the typed views). */
tvm::ffi::ObjectRef VectorizeLoop();

}  // namespace tir_passes
#endif  // TIR_PASSES_PASSES_H_
