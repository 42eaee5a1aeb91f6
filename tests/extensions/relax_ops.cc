// Relax ops and BYOC codegens from C++:
//  - relaxops.scaled_add(x, y, alpha) = x + alpha * y, with broadcasting: typed inference, and
//    legalization to call_tir of a PrimFunc made with the TIR builder;
//  - relaxops.relu(x): lowered to a call of the packed function relaxops.run.relu;
//  - relaxops.always_fails / relaxops.legalize_fails: inference / legalization that throw;
//  - the codegen relax.ext.relaxops_cg: matched matmuls become a CPU kernel built with the TIR
//    builder and compiled by TVM (tirx.build);
//  - the codegen relax.ext.relaxops_bad: throws for an add, returns a module without the
//    function's symbol for a multiply.
#include <tvm/ffi/container/tensor.h>
#include <tvm_extend/backend/codegen.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/func_attr.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_builder.h>
#include <tvm_extend/ir/tir_ops.h>
#include <tvm_extend/op/relax_legalize.h>
#include <tvm_extend/op/relax_op.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

TVM_EXTEND_EXTENSION(relaxops, "1.0.0");

namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm::ffi::ObjectRef;
using tvm_extend::op::CallArgs;
using tvm_extend::op::TensorInfo;
using tvm_extend::op::TensorOf;
using tvm_extend::op::TypeOf;

std::string DTypeName(DLDataType t) { return tvm::ffi::DLDataTypeToString(t); }

bool SameDType(DLDataType a, DLDataType b) {
  return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

// One broadcast dimension of a and b (numpy's rule), or a TypeError.
Expr BroadcastDim(const Expr& a, const Expr& b) {
  IntImm ia = a.as<IntImm>(), ib = b.as<IntImm>();
  if (ia.defined() && ia.value() == 1) return b;
  if (ib.defined() && ib.value() == 1) return a;
  if (ia.defined() && ib.defined() && ia.value() == ib.value()) return a;
  if (!a.same_as(b)) {
    TVM_FFI_THROW(TypeError) << "relaxops.scaled_add: the shapes of x and y do not broadcast";
  }
  return a;
}

// x + alpha * y: x and y tensors of one dtype, alpha a scalar of that dtype.
ObjectRef InferScaledAdd(ObjectRef call, ObjectRef) {
  std::vector<Expr> args = CallArgs(call);
  if (args.size() != 3) {
    TVM_FFI_THROW(TypeError) << "relaxops.scaled_add takes 3 arguments (x, y, alpha), got "
                             << args.size();
  }
  std::optional<TensorInfo> x = TensorOf(TypeOf(args[0])), y = TensorOf(TypeOf(args[1]));
  if (!x || !y) TVM_FFI_THROW(TypeError) << "relaxops.scaled_add: x and y must be tensors";
  if (!x->dtype || !y->dtype || !SameDType(*x->dtype, *y->dtype)) {
    TVM_FFI_THROW(TypeError) << "relaxops.scaled_add: x and y must have one known dtype, got "
                             << (x->dtype ? DTypeName(*x->dtype) : "unknown") << " and "
                             << (y->dtype ? DTypeName(*y->dtype) : "unknown");
  }
  std::optional<DLDataType> alpha = tvm_extend::op::PrimOf(TypeOf(args[2]));
  if (!alpha || !SameDType(*alpha, *x->dtype)) {
    TVM_FFI_THROW(TypeError) << "relaxops.scaled_add: alpha must be a " << DTypeName(*x->dtype)
                             << " scalar";
  }
  if (!x->shape || !y->shape) {
    TVM_FFI_THROW(ValueError) << "relaxops.scaled_add needs the shapes of x and y";
  }
  const std::vector<Expr>& xs = *x->shape;
  const std::vector<Expr>& ys = *y->shape;
  size_t n = std::max(xs.size(), ys.size());
  std::vector<Expr> out(n);
  for (size_t i = 0; i < n; ++i) {  // right-aligned
    const bool in_x = i < xs.size(), in_y = i < ys.size();
    const Expr& a = in_x ? xs[xs.size() - 1 - i] : Expr();
    const Expr& b = in_y ? ys[ys.size() - 1 - i] : Expr();
    out[n - 1 - i] = !in_x ? b : !in_y ? a : BroadcastDim(a, b);
  }
  return tvm_extend::op::MakeTensorType(out, *x->dtype);
}

// The index into an operand of shape `shape` for the output index `idx` (broadcast: a dimension
// of extent 1 where the output's is larger reads index 0).
std::vector<Expr> OperandIndex(const std::vector<int64_t>& shape, const std::vector<int64_t>& out,
                               const std::vector<Var>& idx) {
  std::vector<Expr> index;
  const size_t offset = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1 && out[offset + i] != 1) {
      index.push_back(IntImm::Make(kInt32, 0));
    } else {
      index.push_back(idx[offset + i]);
    }
  }
  return index;
}

// Loops over `shape`, innermost `body(indices)`.
void ForEachIndex(FunctionBuilder& b, const std::vector<int64_t>& shape,
                  const std::function<void(const std::vector<Var>&)>& body) {
  std::vector<Var> idx;
  std::function<void(size_t)> nest = [&](size_t d) {
    if (d == shape.size()) {
      body(idx);
      return;
    }
    b.For("i" + std::to_string(d), 0, shape[d], [&](const Var& v) {
      idx.push_back(v);
      nest(d + 1);
      idx.pop_back();
    });
  };
  nest(0);
}

ObjectRef LegalizeScaledAdd(ObjectRef bb, ObjectRef call) {
  std::vector<Expr> args = CallArgs(call);
  auto xs = TensorOf(TypeOf(args[0]))->constant_shape();
  auto ys = TensorOf(TypeOf(args[1]))->constant_shape();
  std::optional<TensorInfo> out = TensorOf(TypeOf(call));
  auto os = out->constant_shape();
  if (!xs || !ys || !os) return call;  // symbolic shapes: left to a later legalization
  DLDataType t = *out->dtype;
  FunctionBuilder b("scaled_add");
  Var X = b.Buffer("X", *xs, t), Y = b.Buffer("Y", *ys, t);
  Var alpha = b.Scalar("alpha", t);
  Var Out = b.Buffer("Out", *os, t);
  ForEachIndex(b, *os, [&](const std::vector<Var>& idx) {
    std::vector<Expr> oi(idx.begin(), idx.end());
    b.Store(
        Out, oi,
        b.Load(X, OperandIndex(*xs, *os, idx)) + alpha * b.Load(Y, OperandIndex(*ys, *os, idx)));
  });
  return tvm_extend::op::EmitCallTIR(bb, b.Finish(), args, TypeOf(call));
}

// Same type as x, which must be a float32 tensor.
ObjectRef InferUnaryFloat32(ObjectRef call, ObjectRef) {
  std::vector<Expr> args = CallArgs(call);
  std::optional<TensorInfo> x = args.size() == 1 ? TensorOf(TypeOf(args[0])) : std::nullopt;
  if (!x || !x->dtype || !SameDType(*x->dtype, kFloat32)) {
    TVM_FFI_THROW(TypeError) << "relaxops.relu takes one float32 tensor";
  }
  return TypeOf(args[0]);
}

struct CpuAlloc {
  void AllocData(DLTensor* t) { t->data = std::malloc(tvm::ffi::GetDataSize(*t)); }
  void FreeData(DLTensor* t) { std::free(t->data); }
};

// The packed function relaxops.relu lowers to: returns a new tensor (not destination-passing).
tvm::ffi::Tensor RunRelu(tvm::ffi::Tensor x) {
  tvm::ffi::Tensor y = tvm::ffi::Tensor::FromNDAlloc(CpuAlloc(), x.shape(), x.dtype(), x.device());
  const float* in = static_cast<const float*>(x.data_ptr());
  float* out = static_cast<float*>(y.data_ptr());
  for (int64_t i = 0, n = x.numel(); i < n; ++i) out[i] = in[i] > 0 ? in[i] : 0;
  return y;
}

ObjectRef InferAlwaysFails(ObjectRef, ObjectRef) {
  throw std::runtime_error("relaxops.always_fails accepts no call at all");
}

ObjectRef LegalizeAlwaysFails(ObjectRef, ObjectRef) {
  throw std::logic_error("no kernel for this call");
}

// --- BYOC ----------------------------------------------------------------------------------

tvm_extend::ir::GlobalFunction<ObjectRef()> wildcard{"relax.dpl.WildcardPattern"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef)> expr_pattern{"relax.dpl.ExprPattern"};
tvm_extend::ir::GlobalFunction<ObjectRef(ObjectRef, tvm::ffi::Array<ObjectRef>, bool)> call_pattern{
    "relax.dpl.CallPattern"};
tvm_extend::ir::GlobalFunction<Op(tvm::ffi::String)> get_op{"ir.GetOp"};

// op(*, *), for the binary Relax op `op_name`.
ObjectRef BinaryOpPattern(const char* op_name) {
  return call_pattern(expr_pattern(get_op(op_name)), {wildcard(), wildcard()}, false);
}

// The parameters of a function made by FuseOpsByPattern, as tensors of constant shape.
std::vector<std::vector<int64_t>> ParamShapes(const ObjectRef& func, DLDataType* dt) {
  static tvm::ffi::reflection::FieldGetter params("relax.expr.Function", "params");
  std::vector<std::vector<int64_t>> out;
  for (const ObjectRef& p : params(func).cast<tvm::ffi::Array<ObjectRef>>()) {
    std::optional<TensorInfo> t = TensorOf(TypeOf(p));
    if (!t || !t->constant_shape() || !t->dtype) {
      TVM_FFI_THROW(ValueError) << "a parameter is not a tensor of constant shape";
    }
    *dt = *t->dtype;
    out.push_back(*t->constant_shape());
  }
  return out;
}

std::string SymbolOf(const ObjectRef& func) {
  return *GetAttr<tvm::ffi::String>(BaseFunc(func), "global_symbol");
}

// Only 2-D float32 matmuls of constant shape are offloaded.
bool CheckMatmul(ObjectRef context) {
  static tvm::ffi::reflection::FieldGetter matched("relax.transform.PatternCheckContext",
                                                   "matched_expr");
  std::vector<Expr> args = CallArgs(matched(context).cast<ObjectRef>());
  for (const Expr& arg : args) {
    std::optional<TensorInfo> t = TensorOf(TypeOf(arg));
    if (!t || !t->dtype || !SameDType(*t->dtype, kFloat32) || !t->constant_shape() ||
        t->constant_shape()->size() != 2) {
      return false;
    }
  }
  return true;
}

// C = A @ B as a CPU kernel named after the function's global_symbol, compiled by TVM.
tvm::ffi::Module MatmulCodegen(ObjectRef func, tvm_extend::backend::CodegenOptions) {
  DLDataType t = kFloat32;
  std::vector<std::vector<int64_t>> shapes = ParamShapes(func, &t);
  const int64_t m = shapes.at(0).at(0), k = shapes.at(0).at(1), n = shapes.at(1).at(1);
  FunctionBuilder b(SymbolOf(func));
  Var A = b.Buffer("A", {m, k}, t), B = b.Buffer("B", {k, n}, t), C = b.Buffer("C", {m, n}, t);
  b.For("i", 0, m, [&](const Var& i) {
    b.For("j", 0, n, [&](const Var& j) {
      b.Store(C, {i, j}, FloatImm::Make(t, 0.0));
      b.For("kk", 0, k, [&](const Var& kk) {
        b.Store(C, {i, j}, b.Load(C, {i, j}) + b.Load(A, {i, kk}) * b.Load(B, {kk, j}));
      });
    });
  });
  return tvm_extend::backend::BuildTIR(b.Finish());
}

tvm::ffi::Module BadCodegen(ObjectRef func, tvm_extend::backend::CodegenOptions) {
  const std::string symbol = SymbolOf(func);
  if (symbol.find("add") != std::string::npos) {
    throw std::invalid_argument("relaxops_bad has no kernel for an add");
  }
  FunctionBuilder b("not_the_symbol");  // a module without the function RunCodegen calls
  b.Buffer("A", {1}, kFloat32);
  return tvm_extend::backend::BuildTIR(b.Finish());
}

}  // namespace

TVM_EXTEND_REGISTER_RELAX_OP("relaxops.scaled_add", [] {
  return tvm_extend::op::RelaxOpSpec("x + alpha * y, with numpy broadcasting")
      .input("x", "Tensor", "the first operand")
      .input("y", "Tensor", "the second operand, broadcast against x")
      .input("alpha", "Prim", "a scalar of x's dtype")
      .infer_type(InferScaledAdd)
      .pure()
      .legalize(LegalizeScaledAdd);
});
TVM_EXTEND_REGISTER_RELAX_OP("relaxops.relu", [] {
  return tvm_extend::op::RelaxOpSpec("max(x, 0), by a packed function")
      .input("x", "Tensor", "a float32 tensor")
      .infer_type(InferUnaryFloat32)
      .pure()
      .call_packed("relaxops.run.relu");
});
TVM_EXTEND_REGISTER_FUNC("relaxops.run.relu", RunRelu);
TVM_EXTEND_REGISTER_RELAX_OP("relaxops.always_fails", [] {
  return tvm_extend::op::RelaxOpSpec("an op whose type inference throws")
      .input("x", "Tensor", "anything")
      .infer_type(InferAlwaysFails);
});
TVM_EXTEND_REGISTER_RELAX_OP("relaxops.legalize_fails", [] {
  return tvm_extend::op::RelaxOpSpec("an op whose legalization throws")
      .input("x", "Tensor", "a float32 tensor")
      .infer_type(InferUnaryFloat32)
      .pure()
      .legalize(LegalizeAlwaysFails);
});

TVM_EXTEND_REGISTER_CODEGEN("relaxops_cg", [] {
  return tvm_extend::backend::CodegenSpec("float32 matmuls on a CPU kernel")
      .pattern("matmul", BinaryOpPattern("relax.matmul"), CheckMatmul)
      .codegen(MatmulCodegen);
});
TVM_EXTEND_REGISTER_CODEGEN("relaxops_bad", [] {
  return tvm_extend::backend::CodegenSpec("a codegen that fails")
      .pattern("add", BinaryOpPattern("relax.add"))
      .pattern("multiply", BinaryOpPattern("relax.multiply"))
      .codegen(BadCodegen);
});
