// Exercises the typed TIR views: fields of every storage kind, checked casts, constructors,
// the visitor and the copy-on-write mutator.
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/analysis.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_builder.h>
#include <tvm_extend/ir/tir_ops.h>

#include <sstream>
#include <string>

TVM_EXTEND_EXTENSION(views_ext, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::ir::NodeRef;

// "loop i in [0, 16) kind=0 | store B[1 index] | load A | dtype int32 | const 3"
std::string Describe(tvm::ffi::ObjectRef obj) {
  PrimFunc func = NodeRef(obj).Downcast<PrimFunc>();
  std::ostringstream os;
  struct Walker : StmtExprVisitor {
    std::ostringstream* os;
    void VisitStmt_(const For& op) override {
      *os << "loop " << op.loop_var().name() << " in [" << op.min().as<IntImm>().value() << ", "
          << op.extent().as<IntImm>().value() << ") kind=" << op.kind() << " | ";
      StmtExprVisitor::VisitStmt_(op);
    }
    void VisitStmt_(const BufferStore& op) override {
      *os << "store " << op.buffer().name() << "[" << op.indices().size() << " index] | ";
      StmtExprVisitor::VisitStmt_(op);
    }
    void VisitExpr_(const TensorLoad& op) override {
      PrimType t = op.ty().as<PrimType>();
      *os << "load " << op.source().as<Var>().name() << " dtype "
          << static_cast<int>(t.dtype().bits) << " | ";
      StmtExprVisitor::VisitExpr_(op);
    }
    void VisitExpr_(const IntImm& op) override { *os << "const " << op.value() << " | "; }
  } walker;
  walker.os = &os;
  walker.VisitStmt(func.body());
  return os.str();
}

// A mutator that changes nothing must return the very same objects.
bool IdentityKeepsObjects(tvm::ffi::ObjectRef obj) {
  PrimFunc func(obj);
  StmtExprMutator mutator;
  return mutator.VisitStmt(func.body()).same_as(func.body());
}

// Adds one to every integer constant on the right-hand side of a store.
class BumpStoredConstants : public StmtExprMutator {
 public:
  Stmt VisitStmt_(const BufferStore& op) override {
    in_store_ = true;
    Stmt out = StmtExprMutator::VisitStmt_(op);
    in_store_ = false;
    return out;
  }
  Expr VisitExpr_(const IntImm& op) override {
    if (!in_store_) return op;
    return IntImm::Make(op.ty().as<PrimType>().dtype(), op.value() + 1);
  }

 private:
  bool in_store_ = false;
};

tvm::ffi::ObjectRef BumpConstants(tvm::ffi::ObjectRef obj) {
  PrimFunc func(obj);
  Stmt body = BumpStoredConstants().VisitStmt(func.body());
  return PrimFunc::Make(func.params(), body, func.ret_type(), func.attrs());
}

// for (i = 0; i < n; ++i) evaluate(i * 2), built with the constructors.
tvm::ffi::ObjectRef BuildLoop(int64_t n) {
  DLDataType i32{kDLInt, 32, 1};
  Var i = Var::Make("i", PrimType::Make(i32));
  Expr two = IntImm::Make(i32, 2);
  Expr body = Mul::Make(i, two);
  return For::Make(i, IntImm::Make(i32, 0), IntImm::Make(i32, n), 0, Evaluate::Make(body), {}, {},
                   {});
}

// Downcast of a node to the wrong view.
tvm::ffi::ObjectRef DowncastToFor(tvm::ffi::ObjectRef obj) { return NodeRef(obj).Downcast<For>(); }

// A typed call of one of TVM's analyses: the free variables of a statement.
int64_t CountFreeVars(tvm::ffi::ObjectRef stmt) { return FreeVars(NodeRef(stmt)).size(); }
// (x + 1) * 2 < floordiv(y, 4) && x != y, with TVM's type promotion: y is int64.
tvm::ffi::ObjectRef Operators(tvm::ffi::ObjectRef x_ref, tvm::ffi::ObjectRef y_ref) {
  Expr x(x_ref), y(y_ref);
  return ((x + 1) * 2 < floordiv(y, 4)) && (x != y);
}
// The builder: a loop with a condition, and the same inside a block.
tvm::ffi::ObjectRef BuildFunction(bool with_block) {
  FunctionBuilder b("scale");
  Var A = b.Buffer("A", {64}, kInt32);
  Var B = b.Buffer("B", {64}, kInt32);
  auto body = [&] {
    b.For("i", 0, 64, [&](const Var& i) {
      b.If(
          i < 32, [&] { b.Store(B, {i}, b.Load(A, {i}) * 2); },
          [&] { b.Store(B, {i}, b.Load(A, {i}) + 1); });
    });
  };
  if (with_block) {
    b.Block("root", body);
  } else {
    body();
  }
  return b.Finish();
}
// Misuse that must raise, never read the wrong memory.
tvm::ffi::ObjectRef ForBodyOf(tvm::ffi::ObjectRef obj) { return For(obj).body(); }
int64_t NullViewKind() { return For().kind(); }
tvm::ffi::ObjectRef MutateBadly(tvm::ffi::ObjectRef obj, bool null_body) {
  struct Bad : StmtExprMutator {
    bool null_body = false;
    Stmt VisitStmt_(const BufferStore& op) override {
      if (null_body) return Stmt();
      return Evaluate::Make(op.value());  // fine for a statement position...
    }
    Stmt VisitStmt_(const SBlock& op) override {
      if (null_body) return VisitChildren(op);         // a null body below
      return Evaluate::Make(IntImm::Make(kInt32, 0));  // ...not where an SBlock must be
    }
  } bad;
  bad.null_body = null_body;
  return bad.VisitStmt(PrimFunc(obj).body());
}
// with_<field>: copy-on-write of one field.
tvm::ffi::ObjectRef ReplaceLoopBody(tvm::ffi::ObjectRef obj) {
  PrimFunc f(obj);
  For loop(f.body());
  return f.with_body(loop.with_body(Evaluate::Make(IntImm::Make(kInt32, 7))));
}
// A handle with automatic storage comes and goes without leaving a dangling slot.
int64_t TransientHandles(int64_t n) {
  int64_t sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    tvm_extend::ir::GlobalFunction<Expr(tvm::ffi::Any, tvm::ffi::Any, tvm::ffi::ObjectRef)> add{
        "prim._OpAdd"};
    sum += add(int64_t{1}, i, {}).as<IntImm>().value();
  }
  return sum;
}
// Lane- and dtype-changing rewrites: the mutator rebuilds each changed expression through TVM's
// constructor, so its type follows its new children.
class Retype : public StmtExprMutator {
 public:
  // `var` becomes `replacement`; integer constants become `Broadcast(c, lanes)` (lanes > 1) or
  // constants of `dtype` (lanes == 0), or stay (lanes == 1).
  Retype(Var var, Expr replacement, int64_t lanes, DLDataType dtype)
      : var_(std::move(var)), replacement_(std::move(replacement)), lanes_(lanes), dtype_(dtype) {}
  Expr VisitExpr_(const Var& op) override { return op.same_as(var_) ? replacement_ : Expr(op); }
  Expr VisitExpr_(const IntImm& op) override {
    if (lanes_ > 1) return Broadcast::Make(op, IntImm::Make(kInt32, lanes_));
    if (lanes_ == 0) return IntImm::Make(dtype_, op.value());
    return op;
  }

 private:
  Var var_;
  Expr replacement_;
  int64_t lanes_;
  DLDataType dtype_;
};
// x -> Ramp(x, 1, lanes) in `expr`, constants broadcast unless `broadcast` is false.
tvm::ffi::ObjectRef RampVar(tvm::ffi::ObjectRef expr, tvm::ffi::ObjectRef var, int64_t lanes,
                            bool broadcast) {
  Var x(var);
  Expr ramp = Ramp::Make(x, IntImm::Make(kInt32, 1), IntImm::Make(kInt32, lanes));
  return Retype(x, ramp, broadcast ? lanes : 1, kInt32).VisitExpr(Expr(expr));
}
// x -> `wide` (another variable) in `expr`, integer constants retyped to the type of `wide`.
tvm::ffi::ObjectRef WidenVar(tvm::ffi::ObjectRef expr, tvm::ffi::ObjectRef var,
                             tvm::ffi::ObjectRef wide) {
  Var w(wide);
  return Retype(Var(var), w, 0, w.ty().as<PrimType>().dtype()).VisitExpr(Expr(expr));
}
// Vectorizes the loop at the top of the function body: `for i in [0, n)` becomes
// `for io in [0, n / lanes)` over a body where i -> Ramp(io * lanes, 1, lanes).
tvm::ffi::ObjectRef VectorizeLoop(tvm::ffi::ObjectRef obj, int64_t lanes) {
  PrimFunc f(obj);
  For loop(f.body());
  int64_t extent = loop.extent().as<IntImm>().value();
  Var io = Var::Make("io", PrimType::Make(kInt32));
  Expr base = io * lanes;
  Expr ramp = Ramp::Make(base, IntImm::Make(kInt32, 1), IntImm::Make(kInt32, lanes));
  Stmt body = Retype(loop.loop_var(), ramp, lanes, kInt32).VisitStmt(loop.body());
  Stmt vectorized = For::Make(io, IntImm::Make(kInt32, 0), IntImm::Make(kInt32, extent / lanes), 0,
                              body, {}, {}, {});
  return f.with_body(vectorized);
}
// The identity visitor and mutator over a whole function; true when the mutator kept every
// object. Statements visited are counted into `visited`.
int64_t WalkUnchanged(tvm::ffi::ObjectRef obj) {
  PrimFunc f(obj);
  struct Counter : StmtExprVisitor {
    int64_t n = 0;
    void VisitStmt(const Stmt& s) override {
      ++n;
      StmtExprVisitor::VisitStmt(s);
    }
  } counter;
  counter.VisitStmt(f.body());
  StmtExprMutator mutator;
  return mutator.VisitStmt(f.body()).same_as(f.body()) ? counter.n : -1;
}
// Replaces every integer constant by a fresh copy, so every node with a constant below is rebuilt:
// nodes with empty fields (a thread's IterVar without `dom`) must come through.
tvm::ffi::ObjectRef RebuildAll(tvm::ffi::ObjectRef obj) {
  struct Rebuild : StmtExprMutator {
    Expr VisitExpr_(const IntImm& op) override {
      return IntImm::Make(op.ty().as<PrimType>().dtype(), op.value());
    }
  } rebuild;
  PrimFunc f(obj);
  return f.with_body(rebuild.VisitStmt(f.body()));
}
}  // namespace

TVM_EXTEND_REGISTER_FUNC("views_ext.ramp_var", RampVar);
TVM_EXTEND_REGISTER_FUNC("views_ext.widen_var", WidenVar);
TVM_EXTEND_REGISTER_FUNC("views_ext.vectorize_loop", VectorizeLoop);
TVM_EXTEND_REGISTER_FUNC("views_ext.walk_unchanged", WalkUnchanged);
TVM_EXTEND_REGISTER_FUNC("views_ext.rebuild_all", RebuildAll);
TVM_EXTEND_REGISTER_FUNC("views_ext.for_body_of", ForBodyOf);
TVM_EXTEND_REGISTER_FUNC("views_ext.null_view_kind", NullViewKind);
TVM_EXTEND_REGISTER_FUNC("views_ext.mutate_badly", MutateBadly);
TVM_EXTEND_REGISTER_FUNC("views_ext.replace_loop_body", ReplaceLoopBody);
TVM_EXTEND_REGISTER_FUNC("views_ext.transient_handles", TransientHandles);
TVM_EXTEND_REGISTER_FUNC("views_ext.build_function", BuildFunction);
TVM_EXTEND_REGISTER_FUNC("views_ext.operators", Operators);
TVM_EXTEND_REGISTER_FUNC("views_ext.describe", Describe);
TVM_EXTEND_REGISTER_FUNC("views_ext.identity_keeps_objects", IdentityKeepsObjects);
TVM_EXTEND_REGISTER_FUNC("views_ext.bump_constants", BumpConstants);
TVM_EXTEND_REGISTER_FUNC("views_ext.build_loop", BuildLoop);
TVM_EXTEND_REGISTER_FUNC("views_ext.downcast_to_for", DowncastToFor);
TVM_EXTEND_REGISTER_FUNC("views_ext.count_free_vars", CountFreeVars);
