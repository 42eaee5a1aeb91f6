/*!
 * \file tvm_extend/ir/tir_builder.h
 * \brief A builder for TIR functions: parameters and buffers, loops, stores, conditions and
 *        blocks, written as nested C++ scopes. Everything is made by TVM's registered
 *        constructors, so the result is what TVMScript would build.
 *
 * \code
 * FunctionBuilder b("scale");
 * Var A = b.Buffer("A", {64}, kInt32), B = b.Buffer("B", {64}, kInt32);
 * b.For("i", 0, 64, [&](const Var& i) { b.Store(B, {i}, b.Load(A, {i}) * 2); });
 * PrimFunc f = b.Finish();
 * \endcode
 *
 * Needs the generated <tvm_extend/ir/tir.h>. Not thread-safe; one builder per function.
 */
#ifndef TVM_EXTEND_IR_TIR_BUILDER_H_
#define TVM_EXTEND_IR_TIR_BUILDER_H_

#include <tvm/ffi/container/map.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>

#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace tir {

/*! \brief Data types by name, for builders. */
inline constexpr DLDataType kInt32{kDLInt, 32, 1};
inline constexpr DLDataType kInt64{kDLInt, 64, 1};
inline constexpr DLDataType kFloat32{kDLFloat, 32, 1};
inline constexpr DLDataType kBool{kDLBool, 8, 1};

/*! \brief tvm.tirx.ForKind, by name. */
enum class ForKind : int64_t { kSerial = 0, kParallel = 1, kVectorized = 2, kUnrolled = 3 };

namespace builder_detail {
#pragma GCC visibility push(hidden)
inline ::tvm_extend::ir::GlobalFunction<Var(tvm::ffi::String, BufferType, tvm::ffi::ObjectRef)>
    buffer_var{"tirx.BufferVar"};
#if TVM_EXTEND_IR_TVM_MINOR >= 27
inline ::tvm_extend::ir::GlobalFunction<TensorLoad(Var, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef)>
    buffer_load{"tirx.BufferLoad"};
#else  // 0.26: loads and stores take a predicate (none here)
inline ::tvm_extend::ir::GlobalFunction<TensorLoad(Var, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef,
                                                   tvm::ffi::ObjectRef)>
    buffer_load{"tirx.BufferLoad"};
#endif
inline ::tvm_extend::ir::GlobalFunction<Axis(tvm::ffi::String)> axis_get{"tirx.AxisGet"};
inline ::tvm_extend::ir::GlobalFunction<Type()> type_missing{"ir.TypeMissing"};
// How TVM itself makes a DictAttrs (tvm.ir.make_node("ir.DictAttrs", ...)).
inline ::tvm_extend::ir::GlobalFunction<DictAttrs(tvm::ffi::String, tvm::ffi::String,
                                                  tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>)>
    make_object{"ffi.MakeObjectFromPackedArgs"};
#pragma GCC visibility pop

template <typename T>
::tvm_extend::ir::List<T> ToList(const std::vector<T>& items) {
  return ::tvm_extend::ir::List<T>(
      tvm::ffi::Array<tvm::ffi::ObjectRef>(items.begin(), items.end()));
}

/*! \brief `buffer[indices]`, through the load constructor of the release built against. */
inline Expr MakeLoad(const Var& buffer, const ::tvm_extend::ir::List<Expr>& indices) {
#if TVM_EXTEND_IR_TVM_MINOR >= 27
  return buffer_load(buffer, indices.data(), {});
#else  // 0.26: a predicate too (none)
  return buffer_load(buffer, indices.data(), {}, {});
#endif
}
}  // namespace builder_detail

class FunctionBuilder {
 public:
  explicit FunctionBuilder(std::string name) : name_(std::move(name)) { scopes_.emplace_back(); }

  /*!
   * \brief A buffer parameter: a compact row-major buffer in global memory, as
   *        `T.Buffer(shape, dtype)` declares one.
   */
  Var Buffer(const std::string& name, const std::vector<int64_t>& shape, DLDataType dtype) {
    Var buffer = MakeBuffer(name, shape, dtype);
    params_.push_back(buffer);
    return buffer;
  }

  /*! \brief A scalar parameter. */
  Var Scalar(const std::string& name, DLDataType dtype) {
    Var v = Var::Make(name, PrimType::Make(dtype));
    params_.push_back(v);
    return v;
  }

  /*! \brief `buffer[indices]`. */
  Expr Load(const Var& buffer, const std::vector<Expr>& indices) {
    return builder_detail::MakeLoad(buffer, builder_detail::ToList(indices));
  }

  /*! \brief Emit `buffer[indices] = value`. */
  void Store(const Var& buffer, const std::vector<Expr>& indices, const Expr& value) {
#if TVM_EXTEND_IR_TVM_MINOR >= 27
    Emit(BufferStore::Make(buffer, value, builder_detail::ToList(indices)));
#else
    Emit(BufferStore::Make(buffer, value, builder_detail::ToList(indices), Expr()));
#endif
  }

  /*! \brief Emit `evaluate(value)`. */
  void Evaluate(const Expr& value) { Emit(tir::Evaluate::Make(value)); }

  /*! \brief Emit any statement at the current position. */
  void Emit(const Stmt& stmt) { scopes_.back().push_back(stmt); }

  /*! \brief Emit a loop; `body(loop_var)` emits its body. */
  template <typename F>
  void For(const std::string& var_name, const Expr& min, const Expr& extent, F&& body,
           ForKind kind = ForKind::kSerial) {
    PrimType index_type = min.ty().as<PrimType>();
    Var var = Var::Make(var_name, index_type.defined() ? index_type : PrimType::Make(kInt32));
    scopes_.emplace_back();
    body(var);
    Stmt inner = PopScope();
    Emit(tir::For::Make(var, min, extent, static_cast<int64_t>(kind), inner, {}, {}, {}));
  }
  template <typename F>
  void For(const std::string& var_name, int64_t min, int64_t extent, F&& body,
           ForKind kind = ForKind::kSerial) {
    For(var_name, IntImm::Make(kInt32, min), IntImm::Make(kInt32, extent), std::forward<F>(body),
        kind);
  }

  /*! \brief Emit `if cond: then_body()`. */
  template <typename F>
  void If(const Expr& cond, F&& then_body) {
    scopes_.emplace_back();
    then_body();
    Emit(IfThenElse::Make(cond, PopScope(), {}));
  }

  /*! \brief Emit `if cond: then_body() else: else_body()`. */
  template <typename F, typename G>
  void If(const Expr& cond, F&& then_body, G&& else_body) {
    scopes_.emplace_back();
    then_body();
    Stmt then_case = PopScope();
    scopes_.emplace_back();
    else_body();
    Emit(IfThenElse::Make(cond, then_case, PopScope()));
  }

  /*!
   * \brief Emit a schedulable block named `name` (an SBlock in an SBlockRealize, with no
   *        iteration variables, as `with T.sblock(name):` makes one); `body()` emits its body.
   */
  template <typename F>
  void Block(const std::string& name, F&& body) {
    scopes_.emplace_back();
    body();
    Stmt inner = PopScope();
    SBlock block = SBlock::Make({}, {}, {}, name, inner, {}, {}, {}, {});
    Emit(SBlockRealize::Make({}, IntImm::Make(kBool, 1), block));
  }

  /*! \brief The function, with its `global_symbol` set to the builder's name. */
  PrimFunc Finish() {
    if (scopes_.size() != 1) {
      TVM_FFI_THROW(RuntimeError) << "FunctionBuilder::Finish inside an open scope";
    }
    Stmt body = PopScope();
    DictAttrs attrs = builder_detail::make_object("ir.DictAttrs", "__dict__",
                                                  {{"global_symbol", tvm::ffi::String(name_)}});
    scopes_.emplace_back();
    return PrimFunc::Make(builder_detail::ToList(params_), body, builder_detail::type_missing(),
                          attrs);
  }

  /*! \brief A buffer that is not a parameter (for DeclBuffer/AllocBuffer statements). */
  static Var MakeBuffer(const std::string& name, const std::vector<int64_t>& shape,
                        DLDataType dtype) {
    std::vector<Expr> extents;
    std::vector<Iter> shard;
    int64_t stride = 1;
    for (size_t i = shape.size(); i-- > 0;) {
      shard.insert(shard.begin(),
                   Iter::Make(IntImm::Make(kInt32, shape[i]), IntImm::Make(kInt32, stride),
                              builder_detail::axis_get("m")));
      stride *= shape[i];
    }
    for (int64_t extent : shape) extents.push_back(IntImm::Make(kInt32, extent));
    TileLayout layout = TileLayout::Make(builder_detail::ToList(shard), {}, {});
    BufferType type = BufferType::Make("", PrimType::Make(dtype), builder_detail::ToList(extents),
                                       {}, {}, -1, 0, layout, {});
    return builder_detail::buffer_var(name, type, {});
  }

 private:
  Stmt PopScope() {
    std::vector<Stmt> stmts = std::move(scopes_.back());
    scopes_.pop_back();
    if (stmts.empty()) return tir::Evaluate::Make(IntImm::Make(kInt32, 0));
    if (stmts.size() == 1) return stmts[0];
    return SeqStmt::Make(builder_detail::ToList(stmts));
  }

  std::string name_;
  std::vector<Var> params_;
  std::vector<std::vector<Stmt>> scopes_;
};

}  // namespace tir
}  // namespace tvm_extend
#endif  // TVM_EXTEND_IR_TIR_BUILDER_H_
