/*!
 * \file op_attrs.cc
 * \brief An owned override of one of TVM's ops: `tirx.rsqrt` is vectorizable.
 *
 * TVM 0.27 does not mark rsqrt `TVectorizable`, so its VectorizeLoop turns a vectorized loop
 * that computes rsqrt (a normalization epilogue, say) back into a scalar loop. rsqrt lowers to
 * 1 / sqrt(x) on every CPU target, which LLVM emits as vector instructions, so project_a marks it
 * vectorizable. The loader refuses this if another extension overrides the same attribute, and
 * puts TVM's state back when project_a is unloaded.
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/op/op.h>

TVM_EXTEND_OVERRIDE_OP_ATTR("tirx.rsqrt", "TVectorizable", true);
