/*!
 * \file vectorize_loop.cc
 * \brief tir_passes.transform.VectorizeLoop: loops of kind VECTORIZED with a constant extent
 *        become vector code, as TVM's own tirx.transform.VectorizeLoop does.
 *
 * The loop variable becomes `Ramp(0, 1, lanes)`; lanes propagate upwards through arithmetic,
 * comparisons, casts, selects, loads, stores, lets and vectorizable calls, and a scalar meets a
 * vector as a Broadcast. Every node whose lanes change is made again through TVM's own
 * constructor (`T::Make`), so its type is the one TVM computes. Where a statement cannot become
 * vector code (an `if` or an `if_then_else` whose condition depends on the lane, a call TVM
 * does not vectorize with a lane-dependent argument, a vector inside a Broadcast), that
 * statement alone is scalarized: `for i.s in range(lanes)` around a copy with the loop variable
 * replaced. The tests compare the result with TVM's pass on generated programs.
 *
 * Where it differs from TVM's pass (0.27):
 *  - scalable vectors (SVE, RVV: a `vscale` extent, RVV's rewrite of fixed loops), buffer-level
 *    predication (`tirx.enable_buffer_level_predication`) and texture loads/stores are not
 *    supported: the first and the last are refused with an error, predication is not applied;
 *  - a Shuffle that uses the loop variable is refused (TVM vectorizes one pattern of it);
 *  - once a statement is known to be scalarized, the rest of it is not visited (it would be
 *    thrown away), so what TVM refuses only there (a while loop, an inner loop not starting at
 *    0, a let variable bound twice) is not refused;
 *  - errors are ValueErrors with messages of this pass; TVM's warning for a vectorized loop
 *    inside a vectorized loop is not printed (the outer one vectorizes both, as in TVM).
 */
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/builtin.h>
#include <tvm_extend/ir/expr_dtype.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/substitute.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/ir/tir_pass.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "passes.h"

namespace tir_passes {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm::ffi::Object;
using tvm::ffi::ObjectRef;

constexpr int32_t kSerial = 0;      // tvm.tirx.ForKind.SERIAL
constexpr int32_t kVectorized = 2;  // tvm.tirx.ForKind.VECTORIZED

// --- Small helpers private to this pass (candidates for the kit's shared helpers) ---

/*! \brief Lanes of a primitive expression (1 for a scalar), 0 when not primitive. */
int Lanes(const Expr& e) { return LanesOf(e); }
bool IsVector(const Expr& e) { return Lanes(e) > 1; }
uint32_t Key(DLDataType t) { return uint32_t{t.code} << 24 | uint32_t{t.bits} << 16 | t.lanes; }
// Nodes made once and shared (IR nodes are immutable): per thread, so without locks, and never
// freed, so that nothing is released into TVM while the process exits.
/*! \brief The PrimType of `t` with `lanes` lanes. */
PrimType WithLanes(DLDataType t, int lanes) {
  t.lanes = static_cast<uint16_t>(lanes);
  thread_local auto* made = new std::unordered_map<uint32_t, PrimType>();
  auto it = made->find(Key(t));
  if (it != made->end()) return it->second;
  return made->emplace(Key(t), PrimType::Make(t)).first->second;
}
/*! \brief The constant 0 or 1 of an index type. */
IntImm ZeroOrOne(DLDataType t, int64_t v) {
  thread_local auto* made = new std::unordered_map<uint32_t, IntImm>[2];
  auto it = made[v].find(Key(t));
  if (it != made[v].end()) return it->second;
  return made[v].emplace(Key(t), IntImm::Make(t, v)).first->second;
}
/*! \brief An int32 constant; the small ones (lane counts, shuffle indices) made once. */
IntImm Int32(int64_t v) {
  constexpr DLDataType kInt32{kDLInt, 32, 1};
  static const std::vector<IntImm>* small = [] {
    auto* out = new std::vector<IntImm>();
    for (int64_t i = 0; i <= 64; ++i) out->push_back(IntImm::Make(kInt32, i));
    return out;
  }();
  return v >= 0 && v <= 64 ? (*small)[v] : IntImm::Make(kInt32, v);
}

/*! \brief Whether `e` is the integer constant `v`. */
bool IsConst(const Expr& e, int64_t v) {
  IntImm imm = e.as<IntImm>();
  return imm.defined() && imm.value() == v;
}
bool SameType(const Expr& a, const Expr& b) {
  DLDataType x = DataTypeOf(a), y = DataTypeOf(b);
  return x.code == y.code && x.bits == y.bits && x.lanes == y.lanes;
}
/*! \brief A zero of `e`'s type (`e` itself when it is zero). */
Expr ZeroLike(const Expr& e) { return IsConst(e, 0) ? e : Expr(ZeroOrOne(DataTypeOf(e), 0)); }

// `a + b`, `a - b`, `a * b` through TVM's operators, which fold constants; the cases where the
// fold returns one of the operands as it is are answered here, without a call into TVM.
Expr FoldedAdd(const Expr& a, const Expr& b) {
  if (SameType(a, b) && IsConst(b, 0)) return a;
  if (SameType(a, b) && IsConst(a, 0)) return b;
  return a + b;
}
Expr FoldedSub(const Expr& a, const Expr& b) {
  if (SameType(a, b) && IsConst(b, 0)) return a;
  return a - b;
}
Expr FoldedMul(const Expr& a, const Expr& b) {
  if (SameType(a, b) && (IsConst(b, 1) || IsConst(a, 0))) return a;
  if (SameType(a, b) && (IsConst(a, 1) || IsConst(b, 0))) return b;
  return a * b;
}

template <typename T>
tvm_extend::ir::List<T> ToList(const std::vector<T>& items) {
  return tvm_extend::ir::List<T>(tvm::ffi::Array<ObjectRef>(items.begin(), items.end()));
}

/*! \brief `e` with `lanes` lanes: itself, or a Broadcast of a scalar (or of a Broadcast's
 *         value, when its lanes divide `lanes`). */
Expr BroadcastTo(const Expr& e, int lanes) {
  int have = Lanes(e);
  if (have == lanes) return e;
  if (Broadcast b = e.as<Broadcast>(); b.defined() && lanes % have == 0) {
    return Broadcast::Make(b.value(), Int32(lanes));
  }
  if (have != 1) {
    TVM_FFI_THROW(ValueError) << "VectorizeLoop: cannot broadcast " << have << " lanes to "
                              << lanes;
  }
  return Broadcast::Make(e, Int32(lanes));
}

/*! \brief Replaces variables by expressions (TVM's tirx::Substitute). */
class Substitute : public StmtExprMutator {
 public:
  explicit Substitute(std::unordered_map<const Object*, Expr> map) : map_(std::move(map)) {}
  Expr VisitExpr_(const Var& op) override {
    auto it = map_.find(op.get());
    return it == map_.end() ? Expr(op) : it->second;
  }

 private:
  std::unordered_map<const Object*, Expr> map_;
};

/*! \brief The builtin ops the vectorizer treats specially, looked up once (by their name in
 *         the running release: <tvm_extend/ir/builtin.h>). */
struct Builtins {
  Op if_then_else = tvm_extend::tir::builtin::if_then_else();
  Op reinterpret = tvm_extend::tir::builtin::reinterpret();
  Op call_llvm_pure_intrin = tvm_extend::tir::GetOp({"tirx.call_llvm_pure_intrin"});
  Op texture2d_load = tvm_extend::tir::GetOp({"tirx.texture2d_load"});
  Op texture2d_store = tvm_extend::tir::GetOp({"tirx.texture2d_store"});
};

/*! \brief Whether TVM marks `op` vectorizable (its `TVectorizable` attribute), cached. */
bool OpVectorizable(const Op& op) {
  // Registered without a typed signature for its result (Any: None when the op lacks it).
  static const tvm::ffi::Function op_get_attr =
      tvm::ffi::Function::GetGlobalRequired("ir.OpGetAttr");
  thread_local auto* cache = new std::unordered_map<const Object*, bool>();  // never freed
  auto it = cache->find(op.get());
  if (it != cache->end()) return it->second;
  std::optional<bool> attr = op_get_attr(op, tvm::ffi::String("TVectorizable")).try_cast<bool>();
  bool yes = attr.has_value() && *attr;
  cache->emplace(op.get(), yes);
  return yes;
}

/*!
 * \brief A sequence whose statements changed, rebuilt as TVM's StmtMutator does: statements
 *        that became sequences are spliced in, and a sequence of one is that statement.
 */
Stmt RebuildSeq(const SeqStmt& op, const tvm_extend::ir::List<Stmt>& seq) {
  if (seq.same_as(op.seq())) return op;
  std::vector<Stmt> flat;
  for (Stmt s : seq) {
    if (SeqStmt inner = s.as<SeqStmt>(); inner.defined()) {
      for (Stmt t : inner.seq()) flat.push_back(t);
    } else {
      flat.push_back(s);
    }
  }
  if (flat.size() == 1) return flat[0];
  return SeqStmt::Make(ToList(flat));
}

// --- The vectorizer of one loop body ---

/*!
 * \brief Rewrites the body of one vectorized loop into vector code. A visit that meets an
 *        expression it cannot vectorize sets need_scalarize_; the innermost enclosing statement
 *        then becomes a serial loop over the lanes instead.
 */
class Vectorizer : public StmtExprMutator {
 public:
  Vectorizer(const Var& var, const Expr& lanes) : var_(var), var_lanes_(lanes) {
    DLDataType t = DataTypeOf(var);
    ramp_ = Ramp::Make(ZeroOrOne(t, 0), ZeroOrOne(t, 1), lanes);
  }

  // Once an expression asked for scalarization, the rest of its statement is thrown away:
  // it is not visited (TVM's pass visits it, and may refuse something there).
  Expr VisitExpr(const Expr& e) override {
    return need_scalarize_ ? e : StmtExprMutator::VisitExpr(e);
  }

  Stmt VisitStmt(const Stmt& stmt) override {
    Stmt out = StmtExprMutator::VisitStmt(stmt);
    if (!need_scalarize_) return out;
    need_scalarize_ = false;
    return Scalarize(stmt);
  }

  // Arithmetic: additions and subtractions of a scalar and a ramp stay ramps.
  Expr VisitExpr_(const Add& op) override {
    return AddSub(op, [](const Expr& a, const Expr& b) { return FoldedAdd(a, b); });
  }
  Expr VisitExpr_(const Sub& op) override {
    return AddSub(op, [](const Expr& a, const Expr& b) { return FoldedSub(a, b); });
  }
  Expr VisitExpr_(const Mul& op) override {
    Expr a0 = op.a(), b0 = op.b();
    Expr a = VisitExpr(a0), b = VisitExpr(b0);
    if (a.same_as(a0) && b.same_as(b0)) return op;
    if (IsVector(a) || IsVector(b)) {
      // A ramp times a positive scalar is a ramp.
      if (Ramp r = a.as<Ramp>(); r.defined() && Lanes(b) == 1 && Analyzer().CanProve(b > 0)) {
        return Ramp::Make(FoldedMul(r.base(), b), FoldedMul(r.stride(), b), r.lanes());
      }
      if (Ramp r = b.as<Ramp>(); r.defined() && Lanes(a) == 1 && Analyzer().CanProve(a > 0)) {
        return Ramp::Make(FoldedMul(r.base(), a), FoldedMul(r.stride(), a), r.lanes());
      }
    }
    int lanes = std::max(Lanes(a), Lanes(b));
    return Mul::Make(BroadcastTo(a, lanes), BroadcastTo(b, lanes));
  }
  Expr VisitExpr_(const Div& op) override { return Binary(op); }
  Expr VisitExpr_(const Mod& op) override { return Binary(op); }
  Expr VisitExpr_(const FloorDiv& op) override { return Binary(op); }
  Expr VisitExpr_(const FloorMod& op) override { return Binary(op); }
  Expr VisitExpr_(const Min& op) override { return Binary(op); }
  Expr VisitExpr_(const Max& op) override { return Binary(op); }
  Expr VisitExpr_(const EQ& op) override { return Binary(op); }
  Expr VisitExpr_(const NE& op) override { return Binary(op); }
  Expr VisitExpr_(const LT& op) override { return Binary(op); }
  Expr VisitExpr_(const LE& op) override { return Binary(op); }
  Expr VisitExpr_(const GT& op) override { return Binary(op); }
  Expr VisitExpr_(const GE& op) override { return Binary(op); }
  Expr VisitExpr_(const And& op) override { return Binary(op); }
  Expr VisitExpr_(const Or& op) override { return Binary(op); }
  Expr VisitExpr_(const Not& op) override {
    Expr a = VisitExpr(op.a());
    return a.same_as(op.a()) ? Expr(op) : Expr(Not::Make(a));
  }
#if TVM_EXTEND_IR_TVM_MINOR >= 27  // node types since 0.27 (calls before)
  Expr VisitExpr_(const BitwiseAnd& op) override { return Binary(op); }
  Expr VisitExpr_(const BitwiseOr& op) override { return Binary(op); }
  Expr VisitExpr_(const BitwiseXor& op) override { return Binary(op); }
  Expr VisitExpr_(const LShift& op) override { return Binary(op); }
  Expr VisitExpr_(const RShift& op) override { return Binary(op); }
  Expr VisitExpr_(const BitwiseNot& op) override {
    Expr a = VisitExpr(op.a());
    return a.same_as(op.a()) ? Expr(op) : Expr(BitwiseNot::Make(a));
  }
#endif

  Expr VisitExpr_(const Var& op) override {
    if (op.same_as(var_)) return ramp_;
    auto it = let_binding_.find(op.get());
    return it == let_binding_.end() ? Expr(op) : it->second;
  }

  Expr VisitExpr_(const Ramp& op) override {
    Expr base = VisitExpr(op.base()), stride = VisitExpr(op.stride());
    int op_lanes = static_cast<int>(op.lanes().as<IntImm>().value());
    if (IsVector(base) && Lanes(stride) == 1) {
      // A ramp of ramps with matching strides is one longer ramp.
      Ramp inner = base.as<Ramp>();
      if (inner.defined()) {
        int inner_lanes = static_cast<int>(inner.lanes().as<IntImm>().value());
        if (Analyzer().CanProve(inner.stride() == stride * inner_lanes)) {
          return Ramp::Make(inner.base(), stride, Int32(op_lanes * inner_lanes));
        }
      }
    }
    int lanes = std::max(Lanes(base), Lanes(stride));
    base = BroadcastTo(base, lanes);
    stride = BroadcastTo(stride, lanes);
    std::vector<Expr> ramps;
    for (int i = 0; i < lanes; ++i) {
      ramps.push_back(Ramp::Make(ExtractElement(base, i), ExtractElement(stride, i), op.lanes()));
    }
    return Concat(ramps);
  }

  Expr VisitExpr_(const Broadcast& op) override {
    Expr value = VisitExpr(op.value());
    if (IsVector(value)) {
      need_scalarize_ = true;
      return op;
    }
    if (value.same_as(op.value())) return op;
    return Broadcast::Make(op.value(), op.lanes());  // TVM keeps the old value here
  }

  Expr VisitExpr_(const Select& op) override {
    Expr c = VisitExpr(op.condition()), t = VisitExpr(op.true_value()),
         f = VisitExpr(op.false_value());
    if (c.same_as(op.condition()) && t.same_as(op.true_value()) && f.same_as(op.false_value())) {
      return op;
    }
    int lanes = std::max({Lanes(c), Lanes(t), Lanes(f)});
    return Select::Make(BroadcastTo(c, lanes), BroadcastTo(t, lanes), BroadcastTo(f, lanes));
  }

  Expr VisitExpr_(const Cast& op) override {
    Expr value = VisitExpr(op.value());
    if (value.same_as(op.value())) return op;
    return Cast::Make(WithLanes(DataTypeOf(op), Lanes(value)), value);
  }

  Expr VisitExpr_(const TensorLoad& op) override {
    auto indices = MutateList(op.indices(), [this](const Expr& e) { return VisitExpr(e); });
    if (indices.same_as(op.indices())) return op;
    return TensorLoad::Make(Var(op.source()), indices);  // TVM types the load from its indices
  }

  Expr VisitExpr_(const Let& op) override {
    Expr value = VisitExpr(op.value());
    // TVM lets a variable be bound twice only to what it is already bound to.
    if (auto it = let_binding_.find(op.var().get());
        it != let_binding_.end() && !tvm_extend::tir::ExprDeepEqual(it->second, value)) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: let cannot bind `" << op.var().name()
                                << "` to two different values";
    }
    if (Lanes(value) != Lanes(op.value())) {
      Var fresh = Var::Make(op.var().name(), value.ty());
      let_binding_[op.var().get()] = fresh;
      return Let::Make(fresh, value, VisitExpr(op.body()));
    }
    let_binding_[op.var().get()] = op.var();
    Expr body = VisitExpr(op.body());
    if (value.same_as(op.value()) && body.same_as(op.body())) return op;
    return Let::Make(op.var(), value, body);
  }

  Expr VisitExpr_(const Call& op) override {
    Op callee = op.op().as<Op>();
    static const Builtins& builtins = *new Builtins();  // never freed, as above
    PrimType ret = op.ty().as<PrimType>();
    if (ret.defined() && callee.same_as(builtins.if_then_else)) return IfThenElseExpr(op);
    if (ret.defined() && callee.same_as(builtins.reinterpret)) return Reinterpret(op);
    if (ret.defined() &&
        (callee.same_as(builtins.texture2d_load) || callee.same_as(builtins.texture2d_store))) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: texture loads and stores are not supported";
    }
    if (!ret.defined() || !callee.defined() || !OpVectorizable(callee)) {
      // Not vectorized itself: a lane-dependent argument scalarizes the statement.
      std::vector<Expr> args;
      bool changed = false;
      for (Expr arg : op.args()) {
        Expr out = VisitExpr(arg);
        if (IsVector(out)) {
          need_scalarize_ = true;
          return op;
        }
        changed = changed || !out.same_as(arg);
        args.push_back(out);
      }
      if (!changed) return op;
      return Call::Make(op.ty(), op.op(), ToList(args), op.attrs(), EmptyTypes(), op.span());
    }
    // Vectorizable: every primitive argument gets the widest lanes among them. For
    // call_llvm_pure_intrin the first argument (the intrinsic's id) stays as it is.
    size_t first = callee.same_as(builtins.call_llvm_pure_intrin) ? 1 : 0;
    std::vector<Expr> args(op.args().size());
    int lanes = 0;
    bool changed = false;
    for (size_t i = 0; i < args.size(); ++i) {
      Expr arg = op.args()[i];
      args[i] = i < first ? arg : VisitExpr(arg);
      changed = changed || !args[i].same_as(arg);
      if (i >= first) lanes = std::max(lanes, Lanes(args[i]));
    }
    for (size_t i = first; i < args.size(); ++i) {
      if (Lanes(args[i]) != 0 && Lanes(args[i]) != lanes) {
        args[i] = BroadcastTo(args[i], lanes);
        changed = true;
      }
    }
    if (!changed) return op;
    return Call::Make(WithLanes(ret.dtype(), lanes), op.op(), ToList(args), op.attrs(),
                      EmptyTypes(), op.span());
  }

  Expr VisitExpr_(const Shuffle& op) override {
    // TVM vectorizes only a shuffle of one vector by one index that is the loop variable
    // (or it modulo the vector's lanes); this pass leaves a shuffle that does not use it.
    for (Expr e : op.vectors()) VisitExpr(e);
    for (Expr e : op.indices()) VisitExpr(e);
    if (!Uses(op)) return op;
    TVM_FFI_THROW(ValueError) << "VectorizeLoop: a Shuffle that uses the vectorized loop "
                                 "variable is not supported";
    return op;
  }

  Stmt VisitStmt_(const SeqStmt& op) override {
    return RebuildSeq(op, MutateList(op.seq(), [this](const Stmt& s) { return VisitStmt(s); }));
  }

  Stmt VisitStmt_(const BufferStore& op) override {
    auto indices = MutateList(op.indices(), [this](const Expr& e) { return VisitExpr(e); });
    Expr value = VisitExpr(op.value());
    if (indices.same_as(op.indices()) && value.same_as(op.value())) return op;
    // Lanes of the element type and of every index but the last: the last index grows (or the
    // value is broadcast) until both sides cover the same lanes.
    BufferType type = op.buffer().ty().as<BufferType>();
    int other_lanes = type.defined() ? type.dtype().dtype().lanes : 1;
    for (int64_t i = 0; i + 1 < indices.size(); ++i) other_lanes *= Lanes(indices[i]);
    Expr last = indices[indices.size() - 1];
    int total = std::max(other_lanes * Lanes(last), Lanes(value));
    if (total % other_lanes != 0) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: cannot store " << total << " lanes by changing "
                                << "the last index";
    }
    std::vector<Expr> new_indices;
    for (int64_t i = 0; i + 1 < indices.size(); ++i) new_indices.push_back(indices[i]);
    new_indices.push_back(BroadcastTo(last, total / other_lanes));
#if TVM_EXTEND_IR_TVM_MINOR >= 27
    return BufferStore::Make(op.buffer(), BroadcastTo(value, total), ToList(new_indices),
                             op.span());
#else  // 0.26's stores take a predicate (none)
    return BufferStore::Make(op.buffer(), BroadcastTo(value, total), ToList(new_indices), Expr(),
                             op.span());
#endif
  }

  Stmt VisitStmt_(const For& op) override {
    // A vectorized loop inside a vectorized loop is vectorized by the outer one only (TVM
    // warns and keeps the inner loop's kind).
    IntImm min = op.min().as<IntImm>();
    if (!min.defined() || min.value() != 0) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: a loop inside a vectorized loop must start at 0";
    }
    Expr extent = VisitExpr(op.extent());
    if (IsVector(extent)) return Scalarize(op);
    Stmt body = VisitStmt(op.body());
    if (extent.same_as(op.extent()) && body.same_as(op.body())) return op;
    For out = op;
    if (!extent.same_as(op.extent())) out = out.with_extent(extent);
    if (!body.same_as(op.body())) out = out.with_body(body);
    return out;
  }

  Stmt VisitStmt_(const IfThenElse& op) override {
    Expr condition = VisitExpr(op.condition());
    bool condition_scalarizes = need_scalarize_;
    need_scalarize_ = false;
    if (condition_scalarizes || IsVector(condition)) return Scalarize(op);
    Stmt then_case = VisitStmt(op.then_case());
    Stmt else_case = op.else_case().defined() ? VisitStmt(op.else_case()) : Stmt();
    if (condition_scalarizes || IsVector(condition)) return Scalarize(op);
    if (condition.same_as(op.condition()) && then_case.same_as(op.then_case()) &&
        else_case.same_as(op.else_case())) {
      return op;
    }
    return IfThenElse::Make(condition, then_case, else_case);
  }

  Stmt VisitStmt_(const While& op) override {
    TVM_FFI_THROW(ValueError) << "VectorizeLoop: a while loop inside a vectorized loop is not "
                                 "supported";
    return op;
  }

  Stmt VisitStmt_(const Bind& op) override {
    if (Lanes(op.value()) == 0) return StmtExprMutator::VisitStmt_(op);
    Expr value = VisitExpr(op.value());
    if (need_scalarize_) {
      need_scalarize_ = false;
      return Scalarize(op);
    }
    if (let_binding_.count(op.var().get())) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: variable `" << op.var().name()
                                << "` is bound twice";
    }
    if (Lanes(value) != Lanes(op.value())) {
      Var fresh = Var::Make(op.var().name(), value.ty());
      let_binding_[op.var().get()] = fresh;
      return Bind::Make(fresh, value);
    }
    let_binding_[op.var().get()] = op.var();
    if (value.same_as(op.value())) return op;
    return Bind::Make(op.var(), value, op.span());
  }

 private:
  template <typename T>
  Expr Binary(const T& op) {
    Expr a0 = op.a(), b0 = op.b();
    Expr a = VisitExpr(a0), b = VisitExpr(b0);
    if (a.same_as(a0) && b.same_as(b0)) return op;
    int lanes = std::max(Lanes(a), Lanes(b));
    return T::Make(BroadcastTo(a, lanes), BroadcastTo(b, lanes));
  }

  /*! \brief `a + b` or `a - b` through TVM's operators (which fold constants); a scalar plus
   *         or minus a ramp stays a ramp. */
  template <typename T, typename F>
  Expr AddSub(const T& op, F compute) {
    Expr a0 = op.a(), b0 = op.b();
    Expr a = VisitExpr(a0), b = VisitExpr(b0);
    if (a.same_as(a0) && b.same_as(b0)) return op;
    int lanes = std::max(Lanes(a), Lanes(b));
    if (lanes != 1) {
      if (Ramp r = b.as<Ramp>(); r.defined() && Lanes(a) == 1) {
        // 0 + stride folds to the stride itself; 0 - stride is computed.
        Expr stride =
            std::is_same_v<T, Add> ? r.stride() : compute(ZeroLike(r.stride()), r.stride());
        return Ramp::Make(compute(a, r.base()), stride, r.lanes());
      }
      if (Ramp r = a.as<Ramp>(); r.defined() && Lanes(b) == 1) {
        return Ramp::Make(compute(r.base(), b), r.stride(), r.lanes());
      }
    }
    return compute(BroadcastTo(a, lanes), BroadcastTo(b, lanes));
  }

  Expr IfThenElseExpr(const Call& op) {
    Expr cond = VisitExpr(op.args()[0]);
    if (IsVector(cond)) {
      need_scalarize_ = true;
      return op;
    }
    Expr t = VisitExpr(op.args()[1]), f = VisitExpr(op.args()[2]);
    if (cond.same_as(op.args()[0]) && t.same_as(op.args()[1]) && f.same_as(op.args()[2])) {
      return op;
    }
    int lanes = std::max(Lanes(t), Lanes(f));
    return Call::Make(WithLanes(DataTypeOf(op), lanes), op.op(),
                      ToList<Expr>({cond, BroadcastTo(t, lanes), BroadcastTo(f, lanes)}),
                      op.attrs(), EmptyTypes(), op.span());
  }

  Expr Reinterpret(const Call& op) {
    Expr input = op.args()[0];
    Expr value = VisitExpr(input);
    if (value.same_as(input)) return op;
    DLDataType to = DataTypeOf(op), from = DataTypeOf(value);
    int lanes = from.bits * from.lanes / to.bits;
    return Call::Make(WithLanes(to, lanes), op.op(), ToList<Expr>({value}), op.attrs(),
                      EmptyTypes(), op.span());
  }

  /*! \brief `stmt` as a serial loop over the lanes, the loop variable renamed `<var>.s`. */
  Stmt Scalarize(const Stmt& stmt) {
    Var index = Var::Make(std::string(var_.name()) + ".s", var_.ty());
    Stmt body = Substitute({{var_.get(), index}}).VisitStmt(stmt);
    return For::Make(index, ZeroOrOne(DataTypeOf(var_), 0), var_lanes_, kSerial, body, IterVar(),
                     {}, Expr());
  }

  /*! \brief Whether `e` uses the vectorized loop variable. */
  bool Uses(const Expr& e) const {
    for (Var v : FreeVars(e)) {
      if (v.same_as(var_)) return true;
    }
    return false;
  }

  static Expr ExtractElement(const Expr& vector, int i) {
    return Shuffle::Make(ToList<Expr>({vector}), ToList<Expr>({Int32(i)}));
  }
  static Expr Concat(const std::vector<Expr>& vectors) {
    if (vectors.size() == 1) return vectors[0];
    std::vector<Expr> indices;
    int index = 0;
    for (const Expr& v : vectors) {
      for (int i = 0; i < Lanes(v); ++i) indices.push_back(Int32(index++));
    }
    return Shuffle::Make(ToList(vectors), ToList(indices));
  }
  static tvm_extend::ir::List<Type> EmptyTypes() {
    return tvm_extend::ir::List<Type>(tvm::ffi::Array<ObjectRef>());
  }

  Var var_;
  Expr var_lanes_;
  Expr ramp_;
  bool need_scalarize_ = false;
  /*! \brief Variables bound (Bind, Let) inside the loop, to their vectorized variable. */
  std::unordered_map<const Object*, Expr> let_binding_;
  /*! \brief TVM's analyzer, made on first use (most loops never need it). */
  ArithAnalyzer& Analyzer() {
    if (!analyzer_) analyzer_.emplace();
    return *analyzer_;
  }
  std::optional<ArithAnalyzer> analyzer_;
};

/*! \brief Finds the vectorized loops (outermost first) and replaces each by its vector body. */
class LoopVectorizer : public StmtExprMutator {
 public:
  Expr VisitExpr(const Expr& e) override { return e; }  // only statements are walked here

  Stmt VisitStmt_(const SeqStmt& op) override {
    return RebuildSeq(op, MutateList(op.seq(), [this](const Stmt& s) { return VisitStmt(s); }));
  }

  Stmt VisitStmt_(const For& op) override {
    if (op.kind() != kVectorized) return StmtExprMutator::VisitStmt_(op);
    IntImm extent = op.extent().as<IntImm>();
    IntImm min = op.min().as<IntImm>();
    if (!min.defined() || min.value() != 0) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: the vectorized loop over `"
                                << op.loop_var().name() << "` must start at 0";
    }
    if (!extent.defined() || extent.value() < 1) {
      TVM_FFI_THROW(ValueError) << "VectorizeLoop: failed to vectorize the loop over `"
                                << op.loop_var().name() << "`: its extent is not a positive "
                                << "constant (scalable vectors are not supported)";
    }
    return Vectorizer(op.loop_var(), op.extent()).VisitStmt(op.body());
  }
};
}  // namespace

tvm::ffi::ObjectRef VectorizeLoop() {
  return tvm_extend::transform::MakePrimFuncPass(
      "tir_passes.transform.VectorizeLoop",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        return RewriteBody(func, [](const Stmt& body) { return LoopVectorizer().VisitStmt(body); });
      },
      0);
}

}  // namespace tir_passes

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("tir_passes.transform.VectorizeLoop",
                                           tir_passes::VectorizeLoop);
