/*!
 * \file tvm_extend/ir/relax_functor.cc
 * \brief The Relax ExprVisitor and ExprMutator, the BlockBuilder and the binding helpers
 *        (tvm_extend/ir/relax_functor.h, relax_block_builder.h).
 *
 * Compiled once per build folder (tvm_extend_add_extension() adds it as a static library that
 * every extension links, hidden); an extension that does not use them links none of it, and
 * binds none of the global functions below.
 */
#include <tvm/ffi/container/shape.h>
#include <tvm/ffi/container/tensor.h>
#include <tvm_extend/ir/relax_block_builder.h>
#include <tvm_extend/ir/relax_functor.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace relax {
namespace {

using tvm::ffi::ObjectRef;
using tvm::ffi::String;
using ::tvm_extend::ir::GlobalFunction;
using ::tvm_extend::ir::List;

// TVM's BlockBuilder and helpers, bound (and their signatures checked) when the extension loads.
GlobalFunction<ObjectRef(ObjectRef)> bb_create{"relax.BlockBuilderCreate"};
GlobalFunction<Var(ObjectRef, Expr, String)> bb_emit{"relax.BlockBuilderEmit"};
GlobalFunction<Var(ObjectRef, Expr, Type, String)> bb_emit_match_cast{
    "relax.BlockBuilderEmitMatchCast"};
GlobalFunction<Var(ObjectRef, Expr, String)> bb_emit_output{"relax.BlockBuilderEmitOutput"};
GlobalFunction<void(ObjectRef, Binding)> bb_emit_normalized{"relax.BlockBuilderEmitNormalized"};
GlobalFunction<Expr(ObjectRef, Expr)> bb_normalize{"relax.BlockBuilderNormalize"};
GlobalFunction<void(ObjectRef)> bb_begin_dataflow{"relax.BlockBuilderBeginDataflowBlock"};
GlobalFunction<void(ObjectRef)> bb_begin_binding{"relax.BlockBuilderBeginBindingBlock"};
GlobalFunction<BindingBlock(ObjectRef)> bb_end_block{"relax.BlockBuilderEndBlock"};
GlobalFunction<bool(ObjectRef)> bb_is_dataflow{"relax.BlockBuilderCurrentBlockIsDataFlow"};
GlobalFunction<void(ObjectRef, ObjectRef)> bb_begin_scope{"relax.BlockBuilderBeginScope"};
GlobalFunction<void(ObjectRef)> bb_end_scope{"relax.BlockBuilderEndScope"};
GlobalFunction<Expr(ObjectRef, Var)> bb_lookup{"relax.BlockBuilderLookupBinding"};
GlobalFunction<GlobalVar(ObjectRef, BaseFunc, String)> bb_add_function{
    "relax.BlockBuilderAddFunction"};
GlobalFunction<void(ObjectRef, GlobalVar, BaseFunc)> bb_update_function{
    "relax.BlockBuilderUpdateFunction"};
GlobalFunction<IRModule(ObjectRef)> bb_context{"relax.BlockBuilderGetContextIRModule"};
GlobalFunction<IRModule(ObjectRef)> bb_finalize{"relax.BlockBuilderFinalize"};
GlobalFunction<Type()> type_missing{"ir.TypeMissing"};
GlobalFunction<bool(Type)> type_is_missing{"ir.TypeIsMissing"};
GlobalFunction<Op(String)> get_op{"ir.GetOp"};
GlobalFunction<bool(tvm::ffi::Any, tvm::ffi::Any, bool, bool)> structural_equal{
    "ffi.StructuralEqual"};
GlobalFunction<tvm::ffi::Tensor(tvm::ffi::Shape, DLDataType, DLDevice, tvm::ffi::Any)> tensor_alloc{
    "runtime.TVMTensorAllocWithScope"};
#if TVM_EXTEND_IR_TVM_MINOR >= 27
GlobalFunction<Expr(tvm::ffi::Tensor, Type, ObjectRef)> make_tensor_const{"relax.MakeTensorConst"};
#else  // 0.26: a relax.expr.Constant
GlobalFunction<Expr(tvm::ffi::Tensor, Type, ObjectRef)> make_tensor_const{"relax.Constant"};
#endif
// How TVM makes a DictAttrs (tvm.ir.make_node("ir.DictAttrs", ...)).
GlobalFunction<DictAttrs(String, String, tvm::ffi::Map<String, tvm::ffi::Any>)> make_object{
    "ffi.MakeObjectFromPackedArgs"};

/*! \brief IEEE half precision of `f`, rounded to nearest even. */
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, sizeof(x));
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exponent = static_cast<int32_t>((x >> 23) & 0xFF) - 127 + 15;
  uint32_t mantissa = x & 0x7FFFFFu;
  if (((x >> 23) & 0xFF) == 0xFF)
    return static_cast<uint16_t>(sign | 0x7C00u | (mantissa ? 0x200u : 0));
  if (exponent >= 31) return static_cast<uint16_t>(sign | 0x7C00u);  // overflow: infinity
  if (exponent <= 0) {                                               // subnormal or zero
    if (exponent < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000u;
    uint32_t shift = static_cast<uint32_t>(14 - exponent);
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // may carry into exponent
  return static_cast<uint16_t>(half);
}

template <typename T>
List<T> ToList(const std::vector<T>& items) {
  return List<T>(tvm::ffi::Array<ObjectRef>(items.begin(), items.end()));
}

/*! \brief The list `f` makes of `list`: `list` itself when no item changed. */
template <typename T, typename F>
List<T> MapList(const List<T>& list, F&& f) {
  std::vector<T> out;
  out.reserve(list.size());
  bool changed = false;
  for (T item : list) {
    T after = f(item);
    changed = changed || !after.same_as(item);
    out.push_back(after);
  }
  return changed ? ToList(out) : list;
}

/*! \brief What the functors do with an expression, by its type. */
enum class Kind {
  kVar,
  kCall,
  kTuple,
  kTupleGetItem,
  kSeqExpr,
  kFunction,
  kIf,
  kShapeExpr,
  kGlobalVar,
  kOp,
  kExternFunc,
  kOther
};

Kind KindOf(const Expr& e) {
  if (Var::IsInstance(e)) return Kind::kVar;
  if (Call::IsInstance(e)) return Kind::kCall;
  if (Op::IsInstance(e)) return Kind::kOp;
  if (Tuple::IsInstance(e)) return Kind::kTuple;
  if (TupleGetItem::IsInstance(e)) return Kind::kTupleGetItem;
  if (SeqExpr::IsInstance(e)) return Kind::kSeqExpr;
  if (Function::IsInstance(e)) return Kind::kFunction;
  if (If::IsInstance(e)) return Kind::kIf;
  if (ShapeExpr::IsInstance(e)) return Kind::kShapeExpr;
  if (GlobalVar::IsInstance(e)) return Kind::kGlobalVar;
  if (ExternFunc::IsInstance(e)) return Kind::kExternFunc;
  return Kind::kOther;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// BlockBuilder and helpers

BlockBuilder BlockBuilder::Create(const IRModule& context) {
  BlockBuilder bb;
  bb.builder_ = bb_create(context);
  return bb;
}
Var BlockBuilder::Emit(const Expr& value, const std::string& name_hint) {
  return bb_emit(builder_, value, String(name_hint));
}
Var BlockBuilder::EmitMatchCast(const Expr& value, const Type& ty, const std::string& name_hint) {
  return bb_emit_match_cast(builder_, value, ty, String(name_hint));
}
Var BlockBuilder::EmitOutput(const Expr& value, const std::string& name_hint) {
  return bb_emit_output(builder_, value, String(name_hint));
}
void BlockBuilder::EmitNormalized(const Binding& binding) { bb_emit_normalized(builder_, binding); }
Expr BlockBuilder::Normalize(const Expr& expr) { return bb_normalize(builder_, expr); }
void BlockBuilder::BeginDataflowBlock() { bb_begin_dataflow(builder_); }
void BlockBuilder::BeginBindingBlock() { bb_begin_binding(builder_); }
BindingBlock BlockBuilder::EndBlock() { return bb_end_block(builder_); }
bool BlockBuilder::CurrentBlockIsDataflow() { return bb_is_dataflow(builder_); }
void BlockBuilder::BeginScope(const std::vector<Var>& params) {
  bb_begin_scope(builder_, tvm::ffi::Array<ObjectRef>(params.begin(), params.end()));
}
void BlockBuilder::EndScope() { bb_end_scope(builder_); }
Expr BlockBuilder::LookupBinding(const Var& var) { return bb_lookup(builder_, var); }
GlobalVar BlockBuilder::AddFunction(const BaseFunc& func, const std::string& name_hint) {
  return bb_add_function(builder_, func, String(name_hint));
}
void BlockBuilder::UpdateFunction(const GlobalVar& gvar, const BaseFunc& func) {
  bb_update_function(builder_, gvar, func);
}
IRModule BlockBuilder::GetContextIRModule() { return bb_context(builder_); }
IRModule BlockBuilder::Finalize() { return bb_finalize(builder_); }

Type MissingType() { return type_missing(); }
bool IsMissing(const Type& ty) { return !ty.defined() || type_is_missing(ty); }
bool SameType(const Type& a, const Type& b) {
  if (a.same_as(b)) return true;
  if (!a.defined() || !b.defined()) return false;
  return structural_equal(tvm::ffi::Any(a), tvm::ffi::Any(b), false, false);
}

Op GetOp(const std::string& name) { return get_op(String(name)); }

Call MakeCall(const Op& op, const std::vector<Expr>& args, const Attrs& attrs) {
  return Call::Make(MissingType(), op, ToList(args), attrs,
                    List<Type>(tvm::ffi::Array<ObjectRef>()));
}
Call MakeCall(const std::string& op_name, const std::vector<Expr>& args, const Attrs& attrs) {
  return MakeCall(GetOp(op_name), args, attrs);
}

bool IsOp(const Expr& expr, const char* op_name) {
  if (!Call::IsInstance(expr)) return false;
  Expr op = Call(expr, ::tvm_extend::ir::Unchecked{}).op();
  return Op::IsInstance(op) && Op(op, ::tvm_extend::ir::Unchecked{}).name() == op_name;
}

Expr MakeConstant(double value, DLDataType dtype) {
  tvm::ffi::Tensor tensor =
      tensor_alloc(tvm::ffi::Shape(std::vector<int64_t>{}), dtype, DLDevice{kDLCPU, 0}, {});
  void* data = tensor.data_ptr();
  auto store = [&](auto typed) { std::memcpy(data, &typed, sizeof(typed)); };
  switch (dtype.code) {
    case kDLFloat:
      if (dtype.bits == 64) {
        store(value);
      } else if (dtype.bits == 32) {
        store(static_cast<float>(value));
      } else if (dtype.bits == 16) {
        store(FloatToHalf(static_cast<float>(value)));
      } else {
        TVM_FFI_THROW(ValueError) << "MakeConstant: unsupported float width " << dtype.bits;
      }
      break;
    case kDLInt:
      if (dtype.bits == 64) {
        store(static_cast<int64_t>(value));
      } else if (dtype.bits == 32) {
        store(static_cast<int32_t>(value));
      } else if (dtype.bits == 16) {
        store(static_cast<int16_t>(value));
      } else if (dtype.bits == 8) {
        store(static_cast<int8_t>(value));
      } else {
        TVM_FFI_THROW(ValueError) << "MakeConstant: unsupported int width " << dtype.bits;
      }
      break;
    case kDLUInt:
    case kDLBool:
      if (dtype.bits != 8 && !(dtype.code == kDLUInt && dtype.bits == 1)) {
        TVM_FFI_THROW(ValueError) << "MakeConstant: unsupported unsigned width " << dtype.bits;
      }
      store(static_cast<uint8_t>(value));
      break;
    default:
      TVM_FFI_THROW(ValueError) << "MakeConstant: unsupported type code " << int(dtype.code);
  }
  return make_tensor_const(tensor, Type(), ObjectRef());
}

DictAttrs EmptyAttrs() {
  return make_object(String("ir.DictAttrs"), String("__dict__"),
                     tvm::ffi::Map<String, tvm::ffi::Any>());
}

TensorType MakeTensorType(const std::vector<int64_t>& shape, DLDataType dtype) {
  std::vector<Expr> dims;
  for (int64_t d : shape) dims.push_back(IntImm::Make(DLDataType{kDLInt, 64, 1}, d));
  return TensorType::Make(ShapeExpr::Make(ToList(dims)), PrimType::Make(dtype),
                          /*ndim=*/-1, VDevice());  // (the shape gives it)
}

Function MakeFunction(const std::vector<Var>& params, const Expr& body, const Type& ret_ty,
                      bool is_pure) {
  Expr typed = body;
  if (!ret_ty.defined() && IsMissing(body.ty())) {  // TVM needs a type for the function's result
    BlockBuilder bb = BlockBuilder::Create();
    bb.BeginScope(params);
    typed = bb.Normalize(body);
    bb.EndScope();
  }
  return Function::Make(ToList(params), typed, ret_ty, is_pure, EmptyAttrs());
}

Var WithType(const Var& var, const Type& ty) {
  if (SameType(var.ty(), ty)) return var;
  if (DataflowVar::IsInstance(var)) return DataflowVar::Make(var.name(), ty, var.span());
  return Var::Make(var.name(), ty, var.span());
}

Expr BoundValue(const Binding& binding) {
  if (VarBinding::IsInstance(binding)) {
    return VarBinding(binding, ::tvm_extend::ir::Unchecked{}).value();
  }
  if (MatchCast::IsInstance(binding))
    return MatchCast(binding, ::tvm_extend::ir::Unchecked{}).value();
  return Expr();
}

std::vector<Binding> BindingsOf(const BindingBlock& block) {
  std::vector<Binding> out;
  for (Binding b : block.bindings()) out.push_back(b);
  return out;
}

std::vector<Binding> BindingsOf(const Function& func) {
  std::vector<Binding> out;
  for (BindingBlock block : func.body().blocks()) {
    for (Binding b : block.bindings()) out.push_back(b);
  }
  return out;
}

namespace {
class BindingWalker : public ExprVisitor {
 public:
  explicit BindingWalker(const std::function<void(const Binding&, const BindingBlock&)>& fn)
      : fn_(fn) {}
  void VisitBindingBlock(const BindingBlock& block) override {
    BindingBlock outer = block_;
    block_ = block;
    ExprVisitor::VisitBindingBlock(block);
    block_ = outer;
  }
  void VisitBinding(const Binding& binding) override {
    fn_(binding, block_);
    ExprVisitor::VisitBinding(binding);
  }

 private:
  const std::function<void(const Binding&, const BindingBlock&)>& fn_;
  BindingBlock block_;
};
}  // namespace

void ForEachBinding(const Expr& root,
                    const std::function<void(const Binding&, const BindingBlock&)>& fn) {
  BindingWalker(fn).VisitExpr(root);
}

VarMap VarBindings(const Expr& root) {
  VarMap out;
  ForEachBinding(root,
                 [&out](const Binding& b, const BindingBlock&) { out[b.var()] = BoundValue(b); });
  return out;
}

Expr LookupBinding(const VarMap& bindings, const Var& var) {
  Expr value = var;
  for (size_t hops = 0; hops <= bindings.size() && Var::IsInstance(value); ++hops) {
    auto it = bindings.find(Var(value, ::tvm_extend::ir::Unchecked{}));
    if (it == bindings.end()) break;
    value = it->second;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// ExprVisitor

ExprVisitor::~ExprVisitor() = default;

void ExprVisitor::VisitExpr(const Expr& expr) {
  using ::tvm_extend::ir::Unchecked;
  if (!expr.defined()) return;
  switch (KindOf(expr)) {
    case Kind::kVar:
      return VisitExpr_(Var(expr, Unchecked{}));
    case Kind::kCall:
      return VisitExpr_(Call(expr, Unchecked{}));
    case Kind::kTuple:
      return VisitExpr_(Tuple(expr, Unchecked{}));
    case Kind::kTupleGetItem:
      return VisitExpr_(TupleGetItem(expr, Unchecked{}));
    case Kind::kSeqExpr:
      return VisitExpr_(SeqExpr(expr, Unchecked{}));
    case Kind::kFunction:
      return VisitExpr_(Function(expr, Unchecked{}));
    case Kind::kIf:
      return VisitExpr_(If(expr, Unchecked{}));
    case Kind::kShapeExpr:
      return VisitExpr_(ShapeExpr(expr, Unchecked{}));
    case Kind::kGlobalVar:
      return VisitExpr_(GlobalVar(expr, Unchecked{}));
    case Kind::kOp:
      return VisitExpr_(Op(expr, Unchecked{}));
    case Kind::kExternFunc:
      return VisitExpr_(ExternFunc(expr, Unchecked{}));
    case Kind::kOther:
      return VisitExprDefault_(expr);
  }
}

void ExprVisitor::VisitExpr_(const Function& op) {
  for (Var param : op.params()) VisitVarDef(param);
  VisitExpr(op.body());
}
void ExprVisitor::VisitExpr_(const SeqExpr& op) {
  for (BindingBlock block : op.blocks()) VisitBindingBlock(block);
  VisitExpr(op.body());
}
void ExprVisitor::VisitExpr_(const If& op) {
  VisitExpr(op.cond());
  VisitExpr(op.true_branch());
  VisitExpr(op.false_branch());
}
void ExprVisitor::VisitExpr_(const Call& op) {
  VisitExpr(op.op());
  for (Expr arg : op.args()) VisitExpr(arg);
}
void ExprVisitor::VisitExpr_(const Tuple& op) {
  for (Expr field : op.fields()) VisitExpr(field);
}
void ExprVisitor::VisitExpr_(const TupleGetItem& op) { VisitExpr(op.tuple_value()); }
void ExprVisitor::VisitExpr_(const ShapeExpr&) {}
void ExprVisitor::VisitExpr_(const Var&) {}
void ExprVisitor::VisitExpr_(const GlobalVar&) {}
void ExprVisitor::VisitExpr_(const Op&) {}
void ExprVisitor::VisitExpr_(const ExternFunc&) {}
void ExprVisitor::VisitExprDefault_(const Expr&) {}

void ExprVisitor::VisitBindingBlock(const BindingBlock& block) {
  if (DataflowBlock::IsInstance(block)) {
    VisitBindingBlock_(DataflowBlock(block, ::tvm_extend::ir::Unchecked{}));
  } else {
    VisitBindingBlock_(block);
  }
}
void ExprVisitor::VisitBindingBlock_(const BindingBlock& block) {
  for (Binding b : block.bindings()) VisitBinding(b);
}
void ExprVisitor::VisitBindingBlock_(const DataflowBlock& block) {
  for (Binding b : block.bindings()) VisitBinding(b);
}
void ExprVisitor::VisitBinding(const Binding& binding) {
  if (VarBinding::IsInstance(binding)) {
    VisitBinding_(VarBinding(binding, ::tvm_extend::ir::Unchecked{}));
  } else if (MatchCast::IsInstance(binding)) {
    VisitBinding_(MatchCast(binding, ::tvm_extend::ir::Unchecked{}));
  }
}
void ExprVisitor::VisitBinding_(const VarBinding& binding) {
  VisitExpr(binding.value());
  VisitVarDef(binding.var());
}
void ExprVisitor::VisitBinding_(const MatchCast& binding) {
  VisitExpr(binding.value());
  VisitVarDef(binding.var());
}
void ExprVisitor::VisitVarDef(const Var&) {}

// ---------------------------------------------------------------------------------------------
// ExprMutator

ExprMutator::ExprMutator(const IRModule& context) : builder_(BlockBuilder::Create(context)) {}
ExprMutator::~ExprMutator() = default;

Function ExprMutator::Rewrite(const Function& func) {
  return Function(VisitExpr(func));  // checked: an override may have returned anything
}

Expr ExprMutator::VisitExpr(const Expr& expr) {
  using ::tvm_extend::ir::Unchecked;
  if (!expr.defined()) return expr;
  Expr out;
  switch (KindOf(expr)) {
    case Kind::kVar:
      out = VisitExpr_(Var(expr, Unchecked{}));
      break;
    case Kind::kCall:
      out = VisitExpr_(Call(expr, Unchecked{}));
      break;
    case Kind::kTuple:
      out = VisitExpr_(Tuple(expr, Unchecked{}));
      break;
    case Kind::kTupleGetItem:
      out = VisitExpr_(TupleGetItem(expr, Unchecked{}));
      break;
    case Kind::kSeqExpr:
      out = VisitExpr_(SeqExpr(expr, Unchecked{}));
      break;
    case Kind::kFunction:
      out = VisitExpr_(Function(expr, Unchecked{}));
      break;
    case Kind::kIf:
      out = VisitExpr_(If(expr, Unchecked{}));
      break;
    case Kind::kShapeExpr:
      out = VisitExpr_(ShapeExpr(expr, Unchecked{}));
      break;
    case Kind::kGlobalVar:
      out = VisitExpr_(GlobalVar(expr, Unchecked{}));
      break;
    case Kind::kOp:
      out = VisitExpr_(Op(expr, Unchecked{}));
      break;
    case Kind::kExternFunc:
      out = VisitExpr_(ExternFunc(expr, Unchecked{}));
      break;
    case Kind::kOther:
      out = VisitExprDefault_(expr);
      break;
  }
  if (!out.defined()) {
    TVM_FFI_THROW(ValueError) << "tvm-extend: a Relax ExprMutator returned null for a "
                              << expr->GetTypeKey();
  }
  return builder_.Normalize(out);
}

Call ExprMutator::VisitChildren(const Call& op) {
  Expr new_op = VisitExpr(op.op());
  List<Expr> args = MapList(op.args(), [this](const Expr& arg) { return VisitExpr(arg); });
  if (new_op.same_as(op.op()) && args.same_as(op.args())) return op;
  return Call::Make(MissingType(), new_op, args, op.attrs(), op.ty_args(), op.span());
}
Tuple ExprMutator::VisitChildren(const Tuple& op) {
  List<Expr> fields = MapList(op.fields(), [this](const Expr& f) { return VisitExpr(f); });
  if (fields.same_as(op.fields())) return op;
  return Tuple::Make(fields, op.span());
}
TupleGetItem ExprMutator::VisitChildren(const TupleGetItem& op) {
  Expr tuple = VisitExpr(op.tuple_value());
  if (tuple.same_as(op.tuple_value())) return op;
  return TupleGetItem::Make(tuple, op.index(), op.span());
}

Expr ExprMutator::VisitExpr_(const Call& op) { return VisitChildren(op); }
Expr ExprMutator::VisitExpr_(const Tuple& op) { return VisitChildren(op); }
Expr ExprMutator::VisitExpr_(const TupleGetItem& op) { return VisitChildren(op); }
Expr ExprMutator::VisitExpr_(const ShapeExpr& op) { return op; }
Expr ExprMutator::VisitExpr_(const Var& op) {
  auto it = var_remap_.find(op);
  return it == var_remap_.end() ? Expr(op) : Expr(it->second);
}
Expr ExprMutator::VisitExpr_(const GlobalVar& op) { return op; }
Expr ExprMutator::VisitExpr_(const Op& op) { return op; }
Expr ExprMutator::VisitExpr_(const ExternFunc& op) { return op; }
Expr ExprMutator::VisitExprDefault_(const Expr& op) { return op; }

Expr ExprMutator::VisitExpr_(const If& op) {
  Expr cond = VisitExpr(op.cond());
  Expr then_branch = VisitWithNewScope(op.true_branch());
  Expr else_branch = VisitWithNewScope(op.false_branch());
  if (cond.same_as(op.cond()) && then_branch.same_as(op.true_branch()) &&
      else_branch.same_as(op.false_branch())) {
    return op;
  }
  return If::Make(cond, then_branch, else_branch, op.span());
}

Expr ExprMutator::VisitExpr_(const SeqExpr& op) {
  bool changed = false;
  std::vector<BindingBlock> blocks;
  for (BindingBlock block : op.blocks()) {
    BindingBlock out = VisitBindingBlock(block);
    changed = changed || !out.same_as(block);
    if (!out.bindings().empty()) {
      blocks.push_back(out);
    } else {
      changed = true;  // the block is gone
    }
  }
  // What normalizing the body emits (its non-leaf parts) goes into a block of its own.
  builder_.BeginBindingBlock();
  Expr body = VisitExpr(op.body());
  BindingBlock prologue = builder_.EndBlock();
  if (!prologue.bindings().empty()) {
    blocks.push_back(prologue);
    changed = true;
  }
  if (!changed && body.same_as(op.body())) return op;
  return SeqExpr::Make(ToList(blocks), body, op.span());
}

Expr ExprMutator::VisitExpr_(const Function& op) {
  std::vector<Var> params;
  bool changed = false;
  for (Var param : op.params()) {
    Var p = VisitVarDef(param);
    changed = changed || !p.same_as(param);
    params.push_back(p);
  }
  Expr body = VisitWithNewScope(op.body(), params);
  if (!changed && body.same_as(op.body())) return op;
  // Keep the declared return type while the body's type is what it was; a rewrite that changes
  // the body's type gets the type TVM derives from the new body.
  Type ret = SameType(body.ty(), op.body().ty()) ? op.ret_ty() : Type();
  return Function::Make(ToList(params), body, ret, op.is_pure(), op.attrs(), op.span());
}

Expr ExprMutator::VisitWithNewScope(const Expr& expr, const std::vector<Var>& params) {
  builder_.BeginScope(params);
  builder_.BeginBindingBlock();
  Expr out = VisitExpr(expr);
  BindingBlock prologue = builder_.EndBlock();
  if (!prologue.bindings().empty()) {
    out = builder_.Normalize(SeqExpr::Make(ToList(std::vector<BindingBlock>{prologue}), out));
  }
  builder_.EndScope();
  return out;
}

BindingBlock ExprMutator::VisitBindingBlock(const BindingBlock& block) {
  if (DataflowBlock::IsInstance(block)) {
    return VisitBindingBlock_(DataflowBlock(block, ::tvm_extend::ir::Unchecked{}));
  }
  return VisitBindingBlock_(block);
}
namespace {
/*! \brief `block` when `rebuilt` holds the very same bindings (nothing changed), else `rebuilt`. */
BindingBlock KeepIfSame(const BindingBlock& block, const BindingBlock& rebuilt) {
  List<Binding> before = block.bindings(), after = rebuilt.bindings();
  if (before.size() != after.size()) return rebuilt;
  for (int64_t i = 0; i < before.size(); ++i) {
    if (!before[i].same_as(after[i])) return rebuilt;
  }
  return block;
}
}  // namespace

BindingBlock ExprMutator::VisitBindingBlock_(const BindingBlock& block) {
  builder_.BeginBindingBlock();
  for (Binding b : block.bindings()) VisitBinding(b);
  return KeepIfSame(block, builder_.EndBlock());
}
BindingBlock ExprMutator::VisitBindingBlock_(const DataflowBlock& block) {
  builder_.BeginDataflowBlock();
  for (Binding b : block.bindings()) VisitBinding(b);
  return KeepIfSame(block, builder_.EndBlock());
}

void ExprMutator::VisitBinding(const Binding& binding) {
  if (VarBinding::IsInstance(binding)) {
    VisitBinding_(VarBinding(binding, ::tvm_extend::ir::Unchecked{}));
  } else if (MatchCast::IsInstance(binding)) {
    VisitBinding_(MatchCast(binding, ::tvm_extend::ir::Unchecked{}));
  } else {
    builder_.EmitNormalized(binding);  // a kind of binding a newer TVM added: kept
  }
}

void ExprMutator::VisitBinding_(const VarBinding& binding) {
  ReEmitBinding(binding, VisitExpr(binding.value()));
}

void ExprMutator::ReEmitBinding(const VarBinding& binding, const Expr& new_value) {
  Var var = VisitVarDef(binding.var());
  if (var.same_as(binding.var()) && new_value.same_as(binding.value())) {
    builder_.EmitNormalized(binding);
    return;
  }
  var = WithType(var, new_value.ty());
  if (!var.same_as(binding.var())) RemapVar(binding.var(), var);
  builder_.EmitNormalized(VarBinding::Make(var, new_value, binding.span()));
}

void ExprMutator::VisitBinding_(const MatchCast& binding) {
  Expr value = VisitExpr(binding.value());
  Var var = VisitVarDef(binding.var());
  if (var.same_as(binding.var()) && value.same_as(binding.value())) {
    builder_.EmitNormalized(binding);
    return;
  }
  if (!var.same_as(binding.var())) RemapVar(binding.var(), var);
  builder_.EmitNormalized(MatchCast::Make(var, value, binding.ty(), binding.span()));
}

Var ExprMutator::VisitVarDef(const Var& var) { return var; }

void ExprMutator::RemapVar(const Var& from, const Var& to) { var_remap_[from] = to; }

Expr ExprMutator::LookupBinding(const Var& var) { return builder_.LookupBinding(var); }

}  // namespace relax
}  // namespace tvm_extend
