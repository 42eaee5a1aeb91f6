/*!
 * \file tvm_extend/ir/dtype.h
 * \brief TVM's DataType questions on a plain DLDataType (what `PrimType::dtype()` returns):
 *        bits, lanes, kind tests, with_lanes/with_bits, element_of and a printable name.
 *
 * \code
 * DLDataType t = load.ty().as<PrimType>().dtype();
 * if (tvm_extend::ir::dtype::is_int(t) && !tvm_extend::ir::dtype::is_vector(t)) { ... }
 * DLDataType v = tvm_extend::ir::dtype::with_lanes(t, 4);  // "int32x4"
 * \endcode
 *
 * Pure functions of the value (no TVM call, thread-safe), except name(), which is tvm-ffi's
 * own printer, so names match `str(tvm.DataType(...))`. Scalable vectors (negative lanes in
 * DLPack, e.g. "float32xvscalex4") count as vectors; lanes() returns the raw DLPack value.
 */
#ifndef TVM_EXTEND_IR_DTYPE_H_
#define TVM_EXTEND_IR_DTYPE_H_

#include <dlpack/dlpack.h>
#include <tvm/ffi/dtype.h>
#include <tvm/ffi/string.h>

#include <cstdint>
#include <string>

namespace tvm_extend {
namespace ir {
namespace dtype {

inline int bits(DLDataType t) { return t.bits; }
inline int lanes(DLDataType t) { return static_cast<int16_t>(t.lanes); }
inline int code(DLDataType t) { return t.code; }
/*! \brief Bytes of one element, rounded up (bool is 1, int4 is 1). */
inline int bytes(DLDataType t) { return (t.bits + 7) / 8; }

inline bool is_int(DLDataType t) { return t.code == kDLInt; }
inline bool is_uint(DLDataType t) { return t.code == kDLUInt; }
/*! \brief Signed or unsigned integer (not bool). */
inline bool is_integer(DLDataType t) { return is_int(t) || is_uint(t); }
/*! \brief IEEE and bfloat16 floats, and the float8/float4 variants. */
inline bool is_float(DLDataType t) {
  return t.code == kDLFloat || t.code == kDLBfloat || t.code >= kDLFloat8_e3m4;
}
inline bool is_bfloat16(DLDataType t) { return t.code == kDLBfloat && t.bits == 16; }
/*! \brief TVM's bool: kDLBool, or a 1-bit unsigned integer as older releases spell it. */
inline bool is_bool(DLDataType t) { return t.code == kDLBool || (is_uint(t) && t.bits == 1); }
inline bool is_handle(DLDataType t) { return t.code == kDLOpaqueHandle; }
/*! \brief Opaque handle with 0 bits: TVM's `void`. */
inline bool is_void(DLDataType t) { return is_handle(t) && t.bits == 0; }
inline bool is_scalable_vector(DLDataType t) { return lanes(t) < -1; }
inline bool is_scalar(DLDataType t) { return lanes(t) == 1; }
inline bool is_vector(DLDataType t) { return lanes(t) > 1 || is_scalable_vector(t); }

inline DLDataType with_lanes(DLDataType t, int n) {
  t.lanes = static_cast<uint16_t>(n);
  return t;
}
inline DLDataType with_bits(DLDataType t, int n) {
  t.bits = static_cast<uint8_t>(n);
  return t;
}
inline DLDataType with_code(DLDataType t, DLDataTypeCode c) {
  t.code = static_cast<uint8_t>(c);
  return t;
}
/*! \brief The scalar type of one lane. */
inline DLDataType element_of(DLDataType t) { return with_lanes(t, 1); }

inline bool equal(DLDataType a, DLDataType b) {
  return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

/*! \brief TVM's name of the type: "int32", "float16x4", "bool", "handle". */
inline std::string name(DLDataType t) { return std::string(tvm::ffi::DLDataTypeToString(t)); }
/*! \brief The type a name denotes; a ValueError from tvm-ffi for a malformed name. */
inline DLDataType parse(const std::string& s) { return tvm::ffi::StringToDLDataType(s); }

}  // namespace dtype
}  // namespace ir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_DTYPE_H_
