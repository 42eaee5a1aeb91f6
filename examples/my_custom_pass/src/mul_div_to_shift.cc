/*!
 * \file mul_div_to_shift.cc
 * \brief my_custom_pass: the seed's MyCustomPass, made real.
 *
 * Rewrites integer arithmetic by a constant power of two, 2^k with k >= 1, into shifts and masks:
 *   x * 2^k, 2^k * x      -> x << k
 *   floordiv(x, 2^k)      -> x >> k          (arithmetic shift is floor division)
 *   floormod(x, 2^k)      -> x & (2^k - 1)   (two's complement floor modulo)
 *   x / 2^k, x % 2^k      -> same, for unsigned types only (truncation differs for negatives)
 *
 * Written with tvm-ffi only: fields are read through reflection, nodes are built by TVM's
 * registered constructors, and the walk is tvm_extend::ir::PostOrderRewrite (tvm-ffi's
 * copy-on-write structural map), which keeps every unchanged subtree as the same object.
 */
#include <tvm/ffi/any.h>
#include <tvm/ffi/dtype.h>
#include <tvm/ffi/reflection/accessor.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/rewrite.h>

#include <cstdint>
#include <optional>
#include <string>

TVM_EXTEND_EXTENSION(my_custom_pass, "1.0.0");

namespace {

using tvm::ffi::Any;
using tvm::ffi::Function;
using tvm::ffi::ObjectRef;
using tvm::ffi::reflection::FieldGetter;

/*! \brief The TVM pieces the pass uses, resolved once by name. */
struct Tir {
  FieldGetter mul_a{"prim.Mul", "a"}, mul_b{"prim.Mul", "b"};
  FieldGetter fdiv_a{"prim.FloorDiv", "a"}, fdiv_b{"prim.FloorDiv", "b"};
  FieldGetter fmod_a{"prim.FloorMod", "a"}, fmod_b{"prim.FloorMod", "b"};
  FieldGetter div_a{"prim.Div", "a"}, div_b{"prim.Div", "b"};
  FieldGetter mod_a{"prim.Mod", "a"}, mod_b{"prim.Mod", "b"};
  FieldGetter int_value{"ir.IntImm", "value"};
  FieldGetter expr_type{"ir.Expr", "ty"};
  FieldGetter prim_type_dtype{"ir.PrimType", "dtype"};
  Function make_int = tvm_extend::abi::RequireGlobal("ir.IntImm", "my_custom_pass");
  Function shl = tvm_extend::abi::RequireGlobal("prim.left_shift", "my_custom_pass");
  Function shr = tvm_extend::abi::RequireGlobal("prim.right_shift", "my_custom_pass");
  Function band = tvm_extend::abi::RequireGlobal("prim.bitwise_and", "my_custom_pass");

  static const Tir& Get() {
    static const Tir tir;
    return tir;
  }
};

bool IsType(const ObjectRef& node, const char* type_key) {
  return node.defined() && node->GetTypeKey() == type_key;
}

/*! \brief k when `expr` is an integer constant 2^k with k >= 1. */
std::optional<int64_t> PowerOfTwo(const Tir& tir, const ObjectRef& expr) {
  if (!IsType(expr, "ir.IntImm")) return std::nullopt;
  int64_t v = tir.int_value(expr).cast<int64_t>();
  if (v < 2 || (v & (v - 1)) != 0) return std::nullopt;
  int64_t k = 0;
  while ((int64_t{1} << k) != v) ++k;
  return k;
}

/*! \brief Scalar integer (signed or not) of the expression, as a DLDataType. */
std::optional<DLDataType> ScalarIntType(const Tir& tir, const ObjectRef& expr) {
  ObjectRef type = tir.expr_type(expr).cast<ObjectRef>();
  if (!IsType(type, "ir.PrimType")) return std::nullopt;
  DLDataType t = tir.prim_type_dtype(type).cast<DLDataType>();
  if (t.lanes != 1 || (t.code != kDLInt && t.code != kDLUInt) || t.bits < 8) return std::nullopt;
  return t;
}

Any Constant(const Tir& tir, DLDataType t, int64_t value) {
  return tir.make_int(t, value, nullptr);
}

/*! \brief The post-order rewrite of one node; returns the node itself when nothing applies. */
Any Rewrite(const ObjectRef& node) {
  const Tir& tir = Tir::Get();
  const std::string key = node->GetTypeKey();
  if (key == "prim.Mul") {
    ObjectRef a = tir.mul_a(node).cast<ObjectRef>(), b = tir.mul_b(node).cast<ObjectRef>();
    auto t = ScalarIntType(tir, node);
    if (!t) return node;
    if (auto k = PowerOfTwo(tir, b)) return tir.shl(a, Constant(tir, *t, *k), nullptr);
    if (auto k = PowerOfTwo(tir, a)) return tir.shl(b, Constant(tir, *t, *k), nullptr);
    return node;
  }
  const bool floor_div = key == "prim.FloorDiv", floor_mod = key == "prim.FloorMod";
  const bool trunc_div = key == "prim.Div", trunc_mod = key == "prim.Mod";
  if (!floor_div && !floor_mod && !trunc_div && !trunc_mod) return node;
  auto t = ScalarIntType(tir, node);
  if (!t) return node;
  // Truncating division and modulo agree with shifts only when no operand is negative.
  if ((trunc_div || trunc_mod) && t->code != kDLUInt) return node;
  const FieldGetter& get_a = floor_div   ? tir.fdiv_a
                             : floor_mod ? tir.fmod_a
                             : trunc_div ? tir.div_a
                                         : tir.mod_a;
  const FieldGetter& get_b = floor_div   ? tir.fdiv_b
                             : floor_mod ? tir.fmod_b
                             : trunc_div ? tir.div_b
                                         : tir.mod_b;
  ObjectRef a = get_a(node).cast<ObjectRef>(), b = get_b(node).cast<ObjectRef>();
  auto k = PowerOfTwo(tir, b);
  if (!k) return node;
  if (floor_div || trunc_div) return tir.shr(a, Constant(tir, *t, *k), nullptr);
  return tir.band(a, Constant(tir, *t, (int64_t{1} << *k) - 1), nullptr);
}

const std::vector<tvm_extend::ir::RewriteRule>& Rules() {
  static const std::vector<tvm_extend::ir::RewriteRule> rules = [] {
    std::vector<tvm_extend::ir::RewriteRule> out;
    for (const char* key : {"prim.Mul", "prim.FloorDiv", "prim.FloorMod", "prim.Div", "prim.Mod"}) {
      out.push_back({key, Rewrite});
    }
    return out;
  }();
  return rules;
}

ObjectRef MulDivToShift(ObjectRef func, ObjectRef /*mod*/, ObjectRef /*ctx*/) {
  return tvm_extend::ir::PostOrderRewrite(std::move(func), Rules()).cast<ObjectRef>();
}

/*! \brief The same rewrite on one expression, for tests and interactive use. */
ObjectRef RewriteExpr(ObjectRef expr) {
  return tvm_extend::ir::PostOrderRewrite(std::move(expr), Rules()).cast<ObjectRef>();
}

/*! \brief How many multiplications, divisions and modulos by 2^k the IR holds. */
int64_t CountCandidates(ObjectRef ir) {
  int64_t count = 0;
  std::vector<tvm_extend::ir::RewriteRule> counting;
  for (const auto& rule : Rules()) {
    counting.push_back({rule.type_key, [&count](ObjectRef node) -> Any {
                          if (!Rewrite(node).same_as(node)) ++count;
                          return node;
                        }});
  }
  tvm_extend::ir::PostOrderRewrite(std::move(ir), counting);
  return count;
}

}  // namespace

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("my_custom_pass.transform.MulDivToShift", MulDivToShift, 0);
TVM_EXTEND_REGISTER_FUNC("my_custom_pass.rewrite_expr", RewriteExpr);
TVM_EXTEND_REGISTER_FUNC("my_custom_pass.count_candidates", CountCandidates);
