/*!
 * \file narrow_datatype.cc
 * \brief tir_passes.transform.NarrowDataType(bits): int64 loop variables, constants and casts in
 *        index computations become `bits`-bit wherever TVM's arithmetic analyzer proves that every
 *        expression they take part in fits, as TVM's `tirx.transform.NarrowDataType(bits)` does.
 *
 * Two walks, as in TVM:
 * 1. A visitor decides the new type of each loop variable, integer constant and integer cast.
 *    An integer expression "fits" when its type has at most `bits` bits or its constant bound
 *    (loop ranges bound in the analyzer) lies in the `bits`-bit range; a node is narrowed only if
 *    every expression above it, up to the nearest buffer index, fits. A loop variable takes the
 *    widest type any of its uses needs.
 * 2. A mutator rewrites: loop variables everywhere; constants and casts only inside indices,
 *    loop bounds, and operands whose partner's type changed (so both sides agree again, through
 *    TVM's own operators, which promote and fold). A binding whose value changed type gets a
 *    variable of the new type; a stored value is cast back to the buffer's type.
 * Allocated and declared buffers get their shapes narrowed the same way (a new buffer variable);
 * parameters' buffers keep theirs, as in TVM. Thread launches (`thread_extent`) narrow their
 * variable like a loop's. Blocks (s_tir) and loops bound to threads are not handled (TVM 0.27's
 * own pass crashes on blocks).
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/builtin.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/ir/tir_pass.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>

#include "passes.h"
#include "tir_helpers.h"

namespace tir_passes {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)

using tvm_extend::ir::GlobalFunction;
using BinaryOp = GlobalFunction<Expr(Expr, Expr, tvm::ffi::ObjectRef)>;
BinaryOp shift_left{"prim.left_shift"}, shift_right{"prim.right_shift"};
BinaryOp bitwise_and{"prim.bitwise_and"}, bitwise_or{"prim.bitwise_or"};
BinaryOp bitwise_xor{"prim.bitwise_xor"};

/*! \brief A thread's launch: `T.launch_thread` (thread_extent) or a virtual thread. */
bool IsThreadExtent(const AttrStmt& op) {
  return (op.attr_key() == "thread_extent" || op.attr_key() == "virtual_thread") &&
         op.node().as<tvm::ffi::ObjectRef>() &&
         IterVar::IsInstance(*op.node().as<tvm::ffi::ObjectRef>());
}

bool SameType(const DLDataType& a, const DLDataType& b) {
  return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

DLDataType WithBits(DLDataType t, int bits) {
  t.bits = static_cast<uint8_t>(bits);
  return t;
}

/*! \brief The integer type of `e`, if it is a scalar integer (not bool). */
bool IsInt(const Expr& e, DLDataType* out) {
  PrimType t = e.ty().as<PrimType>();
  if (!t.defined()) return false;
  *out = t.dtype();
  return out->code == kDLInt;
}

/*! \brief TVM's cast(): `value` itself when it has the type, a constant of the type for a
 *         constant, else a Cast. */
Expr CastTo(const DLDataType& type, const Expr& value) {
  if (SameType(TypeOf(value), type)) return value;
  if (IntImm imm = value.as<IntImm>(); imm.defined() && type.code == kDLInt) {
    return IntImm::Make(type, imm.value());
  }
  return Cast::Make(PrimType::Make(type), value);
}

/*! \brief Walk 1: the narrowed type of each loop variable, integer constant and integer cast. */
class DataTypeVisitor : public StmtExprVisitor {
 public:
  struct Narrowing {
    DLDataType from, to;
  };
  explicit DataTypeVisitor(int bits)
      : bits_(bits),
        target_(bits),
        max_(bits >= 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1),
        min_(bits >= 64 ? INT64_MIN : -(int64_t{1} << (bits - 1))) {}

  void VisitExpr(const Expr& e) override {
    DLDataType t;
    if (!e.defined() || !IsInt(e, &t)) return StmtExprVisitor::VisitExpr(e);
    // Under an expression that needs 64 bits, this one's bound cannot matter: skip the query.
    int bits = bits_ < 64 && (t.bits <= target_ || Fits(e)) ? target_ : 64;
    int saved = bits_;
    bits_ = std::max(bits, bits_);
    StmtExprVisitor::VisitExpr(e);
    bits_ = saved;
  }
  void VisitExpr_(const TensorLoad& op) override {
    int saved = bits_;
    bits_ = target_;  // each index starts afresh
    StmtExprVisitor::VisitExpr_(op);
    bits_ = saved;
  }
  void VisitStmt_(const For& op) override {
    analyzer_.Bind(op.loop_var(), Range::Make(op.min(), op.extent()));
    IntImm lo = op.min().as<IntImm>(), extent = op.extent().as<IntImm>();
    if (lo.defined() && extent.defined() && extent.value() > 0) {
      const_ranges_[op.loop_var().get()] = {lo.value(), lo.value() + extent.value() - 1};
    }
    loop_types_[op.loop_var().get()] = TypeOf(op.extent());
    StmtExprVisitor::VisitStmt_(op);
  }
  void VisitStmt_(const AttrStmt& op) override {
    if (IsThreadExtent(op)) {
      Var var = IterVar(*op.node().as<tvm::ffi::ObjectRef>()).var();
      analyzer_.Bind(var, Range::Make(IntImm::Make(TypeOf(op.value()), 0), op.value()));
      loop_types_[var.get()] = TypeOf(op.value());
    }
    StmtExprVisitor::VisitStmt_(op);
  }
  // A let's variable gets its value's bound while the body is visited, as in TVM's bound
  // analysis of the whole let (whose results TVM's pass memoizes for every sub-expression).
  void VisitExpr_(const Let& op) override {
    VisitExpr(op.value());
    analyzer_.Update(op.var(), analyzer_.Bound(op.value()));
    VisitExpr(op.body());
  }
  void VisitStmt_(const AllocBuffer& op) override { VisitBufferDef(op.buffer()); }
  void VisitStmt_(const DeclBuffer& op) override {
    VisitExpr(op.data());
    VisitBufferDef(op.buffer());
  }
  /*! \brief A buffer's definition: its shape, strides, offset (as TVM's VisitBufferDef). */
  void VisitBufferDef(const Var& buffer) {
    BufferType type(buffer.ty());
    for (Expr e : type.shape()) VisitExpr(e);
    for (Expr e : type.strides()) VisitExpr(e);
    VisitExpr(type.elem_offset());
    for (Expr e : type.allocated_addr()) VisitExpr(e);
    if (TileLayout layout = type.layout().as<TileLayout>(); layout.defined()) {
      for (const auto& iters : {layout.shard(), layout.replica()}) {
        for (Iter it : iters) VisitExpr(it.extent()), VisitExpr(it.stride());
      }
    }
  }
  void VisitExpr_(const Var& op) override {
    auto it = loop_types_.find(op.get());
    if (it != loop_types_.end()) Record(op, std::min<int>(it->second.bits, bits_));
  }
  void VisitExpr_(const IntImm& op) override {
    DLDataType t;
    if (IsInt(op, &t)) Record(op, std::min<int>(t.bits, bits_));
  }
  void VisitExpr_(const Cast& op) override {
    DLDataType t;
    if (IsInt(op, &t)) Record(op, std::min<int>(t.bits, bits_));
    StmtExprVisitor::VisitExpr_(op);
  }

  /*! \brief The nodes whose type changes, with the new type. */
  std::unordered_map<const tvm::ffi::Object*, DLDataType> Result() const {
    std::unordered_map<const tvm::ffi::Object*, DLDataType> out;
    for (const auto& [node, n] : narrowed_) {
      if (!SameType(n.from, n.to)) out.emplace(node, n.to);
    }
    return out;
  }

 private:
  bool Fits(const Expr& e) {
    if (IntImm imm = e.as<IntImm>(); imm.defined()) {
      return imm.value() >= min_ && imm.value() <= max_;
    }
    auto it = fits_.find(e.get());
    if (it != fits_.end()) return it->second;
    bool fits;
    if (auto b = QuickBound(e)) {
      fits = b->second <= max_ && b->first >= min_;
    } else {
      ConstIntBound bound = analyzer_.Bound(e);
      fits = bound.max_value() <= max_ && bound.min_value() >= min_;
    }
    fits_.emplace(e.get(), fits);
    return fits;
  }

  /*! \brief The analyzer's constant bound, computed here for loop variables with constant
   *         ranges and +, -, *, min, max, floordiv and floormod (by a positive constant) of such
   *         (the same interval rules as TVM's ConstIntBound), saving a call per node; nothing
   *         when a value could leave +-2^40 or another node is met (the analyzer decides). */
  using Interval = std::pair<int64_t, int64_t>;
  std::optional<Interval> QuickBound(const Expr& e) {
    constexpr int64_t kLimit = int64_t{1} << 40;
    auto small = [&](const Interval& r) -> std::optional<Interval> {
      if (r.first < -kLimit || r.second > kLimit) return std::nullopt;
      return r;
    };
    if (IntImm imm = e.as<IntImm>(); imm.defined()) return small({imm.value(), imm.value()});
    if (Var v = e.as<Var>(); v.defined()) {
      auto it = const_ranges_.find(v.get());
      if (it == const_ranges_.end()) return std::nullopt;
      return it->second;
    }
    auto binary = [&](const Expr& a,
                      const Expr& b) -> std::optional<std::pair<Interval, Interval>> {
      auto x = QuickBound(a);
      if (!x) return std::nullopt;
      auto y = QuickBound(b);
      if (!y) return std::nullopt;
      return std::make_pair(*x, *y);
    };
    if (Add n = e.as<Add>(); n.defined()) {
      auto r = binary(n.a(), n.b());
      if (!r) return std::nullopt;
      return small({r->first.first + r->second.first, r->first.second + r->second.second});
    }
    if (Sub n = e.as<Sub>(); n.defined()) {
      auto r = binary(n.a(), n.b());
      if (!r) return std::nullopt;
      return small({r->first.first - r->second.second, r->first.second - r->second.first});
    }
    if (Mul n = e.as<Mul>(); n.defined()) {
      auto r = binary(n.a(), n.b());
      if (!r) return std::nullopt;
      auto [a, b] = *r;
      int64_t p[] = {a.first * b.first, a.first * b.second, a.second * b.first,
                     a.second * b.second};
      return small({*std::min_element(p, p + 4), *std::max_element(p, p + 4)});
    }
    if (Min n = e.as<Min>(); n.defined()) {
      auto r = binary(n.a(), n.b());
      if (!r) return std::nullopt;
      return Interval{std::min(r->first.first, r->second.first),
                      std::min(r->first.second, r->second.second)};
    }
    if (Max n = e.as<Max>(); n.defined()) {
      auto r = binary(n.a(), n.b());
      if (!r) return std::nullopt;
      return Interval{std::max(r->first.first, r->second.first),
                      std::max(r->first.second, r->second.second)};
    }
    if (FloorDiv n = e.as<FloorDiv>(); n.defined()) {
      IntImm c = n.b().as<IntImm>();
      auto a = c.defined() && c.value() > 0 ? QuickBound(n.a()) : std::nullopt;
      if (!a) return std::nullopt;
      auto floor_div = [&](int64_t x) {
        return x >= 0 ? x / c.value() : -((-x + c.value() - 1) / c.value());
      };
      return Interval{floor_div(a->first), floor_div(a->second)};
    }
    if (FloorMod n = e.as<FloorMod>(); n.defined()) {
      IntImm c = n.b().as<IntImm>();
      auto a = c.defined() && c.value() > 0 ? QuickBound(n.a()) : std::nullopt;
      if (!a) return std::nullopt;
      return Interval{0, a->first >= 0 ? std::min(a->second, c.value() - 1) : c.value() - 1};
    }
    return std::nullopt;
  }
  void Record(const Expr& e, int bits) {
    DLDataType own = TypeOf(e);
    auto [it, fresh] = narrowed_.emplace(e.get(), Narrowing{own, WithBits(own, bits)});
    if (!fresh) it->second.to = WithBits(own, std::max<int>(it->second.to.bits, bits));
  }

  PassAnalyzer analyzer_;
  int bits_, target_;
  int64_t max_, min_;
  std::unordered_map<const tvm::ffi::Object*, DLDataType> loop_types_;
  std::unordered_map<const tvm::ffi::Object*, bool> fits_;
  std::unordered_map<const tvm::ffi::Object*, Interval> const_ranges_;
  std::unordered_map<const tvm::ffi::Object*, Narrowing> narrowed_;
};

/*! \brief Walk 2: rewrite what walk 1 narrowed, keeping every expression well-typed. */
class Narrower : public StmtExprMutator {
 public:
  explicit Narrower(std::unordered_map<const tvm::ffi::Object*, DLDataType> narrow)
      : narrow_(std::move(narrow)) {}

  Expr VisitExpr_(const Var& op) override {
    if (auto buffer = buffers_.find(op.get()); buffer != buffers_.end()) return buffer->second;
    auto remapped = remap_.find(op.get());
    if (remapped != remap_.end()) return remapped->second;
    auto it = narrow_.find(op.get());
    if (it == narrow_.end()) return op;
    Var var = Var::Make(op.name(), PrimType::Make(it->second));
    remap_.emplace(op.get(), var);
    return var;
  }
  Expr VisitExpr_(const IntImm& op) override {
    auto it = enabled_ ? narrow_.find(op.get()) : narrow_.end();
    return it == narrow_.end() ? Expr(op) : Expr(IntImm::Make(it->second, op.value()));
  }
  Expr VisitExpr_(const Cast& op) override {
    auto it = enabled_ ? narrow_.find(op.get()) : narrow_.end();
    Cast cast = VisitChildren(op);
    if (it == narrow_.end()) return cast;
    Expr value = cast.value();
    return SameType(TypeOf(value), it->second)
               ? value
               : Expr(Cast::Make(PrimType::Make(it->second), value));
  }
  Expr VisitExpr_(const Add& op) override {
    return Binary(op, [](Expr a, Expr b) { return a + b; });
  }
  Expr VisitExpr_(const Sub& op) override {
    return Binary(op, [](Expr a, Expr b) { return a - b; });
  }
  Expr VisitExpr_(const Mul& op) override {
    return Binary(op, [](Expr a, Expr b) { return a * b; });
  }
  Expr VisitExpr_(const Div& op) override {
    return Binary(op, [](Expr a, Expr b) { return a / b; });
  }
  Expr VisitExpr_(const Mod& op) override {
    return Binary(op, [](Expr a, Expr b) { return a % b; });
  }
  Expr VisitExpr_(const FloorDiv& op) override {
    return Binary(op, [](Expr a, Expr b) { return floordiv(a, b); });
  }
  Expr VisitExpr_(const FloorMod& op) override {
    return Binary(op, [](Expr a, Expr b) { return floormod(a, b); });
  }
  Expr VisitExpr_(const Min& op) override {
    return Binary(op, [](Expr a, Expr b) { return min(a, b); });
  }
  Expr VisitExpr_(const Max& op) override {
    return Binary(op, [](Expr a, Expr b) { return max(a, b); });
  }
  Expr VisitExpr_(const EQ& op) override {
    return Binary(op, [](Expr a, Expr b) { return a == b; });
  }
  Expr VisitExpr_(const NE& op) override {
    return Binary(op, [](Expr a, Expr b) { return a != b; });
  }
  Expr VisitExpr_(const LT& op) override {
    return Binary(op, [](Expr a, Expr b) { return a < b; });
  }
  Expr VisitExpr_(const LE& op) override {
    return Binary(op, [](Expr a, Expr b) { return a <= b; });
  }
  Expr VisitExpr_(const GT& op) override {
    return Binary(op, [](Expr a, Expr b) { return a > b; });
  }
  Expr VisitExpr_(const GE& op) override {
    return Binary(op, [](Expr a, Expr b) { return a >= b; });
  }

  // Shifts and bitwise operations: rebuilt by TVM's operator (which promotes to the wider
  // type), without the second, narrowing visit of the arithmetic above.
#if TVM_EXTEND_IR_TVM_MINOR < 27
  // Before 0.27 shifts and bitwise operations are calls of TVM's builtin ops: the same
  // legalization, through the same operators (tirx.left_shift, ... on 0.26).
  Expr VisitExpr_(const Call& op) override {
    static const std::pair<Op, BinaryOp*> kBinary[] = {
        {tvm_extend::tir::GetOp({"tirx.shift_left"}), &shift_left},
        {tvm_extend::tir::GetOp({"tirx.shift_right"}), &shift_right},
        {tvm_extend::tir::GetOp({"tirx.bitwise_and"}), &bitwise_and},
        {tvm_extend::tir::GetOp({"tirx.bitwise_or"}), &bitwise_or},
        {tvm_extend::tir::GetOp({"tirx.bitwise_xor"}), &bitwise_xor}};
    if (op.args().size() == 2) {
      for (const auto& [callee, make] : kBinary) {
        if (!op.op().same_as(callee)) continue;
        Expr a = VisitExpr(op.args()[0]), b = VisitExpr(op.args()[1]);
        bool same = a.same_as(op.args()[0]) && b.same_as(op.args()[1]);
        if (same && SameType(TypeOf(a), TypeOf(b))) return op;
        return (*make)(a, b, {});
      }
    }
    return StmtExprMutator::VisitExpr_(op);
  }
#endif
#if TVM_EXTEND_IR_TVM_MINOR >= 27  // node types since 0.27 (calls before)
  Expr VisitExpr_(const LShift& op) override { return Legalize(op, shift_left); }
  Expr VisitExpr_(const RShift& op) override { return Legalize(op, shift_right); }
  Expr VisitExpr_(const BitwiseAnd& op) override { return Legalize(op, bitwise_and); }
  Expr VisitExpr_(const BitwiseOr& op) override { return Legalize(op, bitwise_or); }
  Expr VisitExpr_(const BitwiseXor& op) override { return Legalize(op, bitwise_xor); }
#endif

  Expr VisitExpr_(const Select& op) override {
    Expr cond = VisitExpr(op.condition()), t = VisitExpr(op.true_value()),
         f = VisitExpr(op.false_value());
    DLDataType tt = TypeOf(t), ft = TypeOf(f);
    if (cond.same_as(op.condition()) && t.same_as(op.true_value()) && f.same_as(op.false_value()) &&
        SameType(tt, ft)) {
      return op;
    }
    DLDataType wide = WithBits(tt, std::max(tt.bits, ft.bits));
    return Select::Make(cond, CastTo(wide, t), CastTo(wide, f));
  }

  Expr VisitExpr_(const Let& op) override {
    Expr value = VisitExpr(op.value());
    Var var = op.var();
    if (!SameType(TypeOf(value), TypeOf(var))) {
      // A let met again (a shared node, or a second, narrowing visit) keeps its new variable.
      auto it = remap_.find(op.var().get());
      if (it != remap_.end() && SameType(TypeOf(it->second), TypeOf(value))) {
        var = it->second;
      } else {
        var = Var::Make(var.name(), PrimType::Make(TypeOf(value)));
        remap_[op.var().get()] = var;
      }
    }
    Expr body = VisitExpr(op.body());
    if (value.same_as(op.value()) && body.same_as(op.body())) return op;
    return Let::Make(var, value, body);
  }

  Expr VisitExpr_(const TensorLoad& op) override {
    Var buffer = BufferUse(Var(op.source()));
    auto indices = Indices(op.indices());
    if (buffer.same_as(op.source()) && indices.same_as(op.indices())) return op;
    return TensorLoad::Make(buffer, indices);
  }

  Stmt VisitStmt_(const BufferStore& op) override {
    Var buffer = BufferUse(op.buffer());
    Expr value = VisitExpr(op.value());
    DLDataType stored = BufferType(buffer.ty()).dtype().dtype();
    if (!SameType(TypeOf(value), stored) && TypeOf(value).lanes == 1) value = CastTo(stored, value);
    auto indices = Indices(op.indices());
    if (buffer.same_as(op.buffer()) && value.same_as(op.value()) && indices.same_as(op.indices())) {
      return op;
    }
    return BufferStore::Make(buffer, value, indices);
  }

  // A thread launch: its extent and whole body rewritten with narrowing enabled (as TVM does),
  // the thread variable and its IterVar renewed with the narrowed type.
  Stmt VisitStmt_(const AttrStmt& op) override {
    if (!IsThreadExtent(op)) return StmtExprMutator::VisitStmt_(op);
    bool saved = enabled_;
    enabled_ = true;
    Expr value = VisitExpr(op.value());
    Stmt body = VisitStmt(op.body());
    enabled_ = saved;
    IterVar iv(*op.node().as<tvm::ffi::ObjectRef>());
    auto it = thread_vars_.find(iv.get());
    if (it == thread_vars_.end()) {
      Var var(VisitExpr(iv.var()));
      Range dom = iv.dom();
      if (dom.defined() && !SameType(TypeOf(dom.extent()), TypeOf(var))) {
        dom = Range::Make(CastTo(TypeOf(var), dom.min()), CastTo(TypeOf(var), dom.extent()));
      }
      it = thread_vars_.emplace(iv.get(), IterVar::Make(dom, var, iv.iter_type(), iv.thread_tag()))
               .first;
    }
    return AttrStmt::Make(it->second, op.attr_key(), CastTo(TypeOf(it->second.var()), value), body);
  }

  Stmt VisitStmt_(const AllocBuffer& op) override {
    Var buffer = BufferDef(op.buffer());
    return buffer.same_as(op.buffer()) ? Stmt(op)
                                       : Stmt(AllocBuffer::Make(buffer, op.annotations()));
  }
  Stmt VisitStmt_(const DeclBuffer& op) override {
    Expr data = VisitExpr(op.data());
    Var buffer = BufferDef(op.buffer());
    if (data.same_as(op.data()) && buffer.same_as(op.buffer())) return op;
    return DeclBuffer::Make(buffer, data);
  }

  Stmt VisitStmt_(const For& op) override {
    bool saved = enabled_;
    enabled_ = true;
    Var var(VisitExpr(op.loop_var()));
    Expr lo = VisitExpr(op.min()), extent = VisitExpr(op.extent());
    enabled_ = saved;
    Stmt body = VisitStmt(op.body());
    if (var.same_as(op.loop_var()) && lo.same_as(op.min()) && extent.same_as(op.extent()) &&
        body.same_as(op.body())) {
      return op;
    }
    DLDataType t = TypeOf(var);
    return For::Make(var, CastTo(t, lo), CastTo(t, extent), op.kind(), body, op.thread_binding(),
                     op.annotations(), op.step());
  }

  Stmt VisitStmt_(const Bind& op) override {
    Expr value = VisitExpr(op.value());
    Var var = op.var();
    if (!SameType(TypeOf(value), TypeOf(var))) {
      var = Var::Make(var.name(), PrimType::Make(TypeOf(value)));
      remap_[op.var().get()] = var;
    }
    if (value.same_as(op.value()) && var.same_as(op.var())) return op;
    return Bind::Make(var, value);
  }

 private:
  /*! \brief A binary node: rebuilt by TVM's operator when a child changed; when the children's
   *         types now differ, they are visited again with narrowing enabled, so they agree. */
  template <typename T, typename Make>
  Expr Binary(const T& op, Make make) {
    Expr a = VisitExpr(op.a()), b = VisitExpr(op.b());
    bool same_type = SameType(TypeOf(a), TypeOf(b));
    if (a.same_as(op.a()) && b.same_as(op.b()) && same_type) return op;
    if (same_type) return make(a, b);
    bool saved = enabled_;
    enabled_ = true;
    Expr lhs = VisitExpr(op.a()), rhs = VisitExpr(op.b());
    enabled_ = saved;
    return make(lhs, rhs);
  }

  template <typename T, typename Op>
  Expr Legalize(const T& op, const Op& make) {
    Expr a = VisitExpr(op.a()), b = VisitExpr(op.b());
    if (a.same_as(op.a()) && b.same_as(op.b()) && SameType(TypeOf(a), TypeOf(b))) return op;
    return make(a, b, {});
  }

  /*! \brief A buffer definition, its shape (strides, offset) rewritten with narrowing enabled;
   *         a changed one becomes a new buffer variable, which later uses refer to. */
  Var BufferDef(const Var& buffer) {
    if (auto it = buffers_.find(buffer.get()); it != buffers_.end()) return it->second;
    BufferType type(buffer.ty());
    bool saved = enabled_;
    enabled_ = true;
    auto visit = [this](const Expr& e) { return VisitExpr(e); };
    auto shape = MutateList(type.shape(), visit), strides = MutateList(type.strides(), visit);
    Expr elem_offset = VisitExpr(type.elem_offset());
    auto allocated_addr = MutateList(type.allocated_addr(), visit);
    // A tiled layout's extents and strides go with the shape.
    Layout layout = type.layout();
    if (TileLayout tile = layout.as<TileLayout>(); tile.defined()) {
      auto iter = [this](const Iter& it) {
        Expr extent = VisitExpr(it.extent()), stride = VisitExpr(it.stride());
        if (extent.same_as(it.extent()) && stride.same_as(it.stride())) return it;
        return Iter::Make(extent, stride, it.axis());
      };
      auto shard = MutateList(tile.shard(), iter), replica = MutateList(tile.replica(), iter);
      if (!shard.same_as(tile.shard()) || !replica.same_as(tile.replica())) {
        layout = TileLayout::Make(shard, replica, tile.offset());
      }
    }
    enabled_ = saved;
    if (shape.same_as(type.shape()) && strides.same_as(type.strides()) &&
        elem_offset.same_as(type.elem_offset()) && allocated_addr.same_as(type.allocated_addr()) &&
        layout.same_as(type.layout())) {
      return buffer;
    }
    type = type.with_shape(shape).with_strides(strides).with_elem_offset(elem_offset);
    type = type.with_layout(layout);
    Var fresh = Var::Make(buffer.name(), type.with_allocated_addr(allocated_addr));
    buffers_.emplace(buffer.get(), fresh);
    return fresh;
  }
  Var BufferUse(const Var& buffer) {
    auto it = buffers_.find(buffer.get());
    return it == buffers_.end() ? buffer : it->second;
  }

  tvm_extend::ir::List<Expr> Indices(const tvm_extend::ir::List<Expr>& indices) {
    bool saved = enabled_;
    enabled_ = true;
    auto out = MutateList(indices, [this](const Expr& e) { return VisitExpr(e); });
    enabled_ = saved;
    return out;
  }

  std::unordered_map<const tvm::ffi::Object*, DLDataType> narrow_;
  std::unordered_map<const tvm::ffi::Object*, Var> remap_;
  std::unordered_map<const tvm::ffi::Object*, Var> buffers_;
  std::unordered_map<const tvm::ffi::Object*, IterVar> thread_vars_;
  bool enabled_ = false;
};
}  // namespace

tvm::ffi::ObjectRef NarrowDataType(int64_t bits) {
  return tvm_extend::transform::MakePrimFuncPass(
      "tir_passes.transform.NarrowDataType",
      [bits](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func, [&](const Stmt& body) {
          DataTypeVisitor visitor(static_cast<int>(bits));
          visitor.VisitStmt(body);
          return Narrower(visitor.Result()).VisitStmt(body);
        });
      },
      0);
}

}  // namespace tir_passes

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("tir_passes.transform.NarrowDataType",
                                           tir_passes::NarrowDataType);
