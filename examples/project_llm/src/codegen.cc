/*!
 * \file codegen.cc
 * \brief project_llm's BYOC codegen: the matmuls of a Relax module, matched by its patterns
 *        (python/project_llm/__init__.py) and outlined by FuseOpsByPattern into functions with
 *        the attribute Codegen="project_llm", are compiled here to CPU kernels:
 *
 * - `project_llm.dense`: `matmul(x, permute_dims(w))`, a Linear layer's projection, x of shape
 *   (..., M, K), w (N, K). The kernel computes the transposed product Y^T = W X^T, so that the
 *   large operand W is read in its own row-major layout (A of project_a's micro-kernel, packed
 *   row panel by row panel) and only the small activation is transposed (B), and writes Y back
 *   transposed from the accumulator tile. Scheduled by project_a's register-blocked
 *   micro-kernel (`project_a.schedule.matmul_microkernel`).
 * - `project_llm.batch_matmul`: `matmul(a, b)` of two tensors with the same batch dimensions
 *   (attention's Q K^T and P V): batches in parallel, an mr x nr accumulator tile in registers
 *   over the reduction, no packing (the operands of one batch fit in cache).
 *
 * `project_llm.codegen.matmul(functions, options, constant_names)` is the `relax.ext.<name>`
 * contract of RunCodegen: it returns one runtime module (built by TVM's `tirx.build` for the
 * current target) whose functions are named by the functions' `global_symbol`s, which is what
 * the Relax VM calls. The tile is chosen from the target's CPU features.
 *
 * Relax nodes are read through tvm-ffi reflection by field name (relax.expr.Function's params,
 * body, attrs; ir.Call's op and args; relax.TensorType's shape and dtype) until the kit's
 * Relax views exist.
 */
#include <tvm/ffi/reflection/accessor.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/schedule/schedule.h>

#include <algorithm>
#include <string>
#include <vector>

namespace project_llm {
namespace {
using tvm::ffi::Any;
using tvm::ffi::Array;
using tvm::ffi::Function;
using tvm::ffi::Map;
using tvm::ffi::ObjectRef;
using tvm::ffi::String;
using tvm_extend::ir::GlobalFunction;
using tvm_extend::schedule::LoopRV;
using tvm_extend::schedule::SBlockRV;
using tvm_extend::schedule::Schedule;
namespace tir = tvm_extend::tir;

[[noreturn]] void Fail(const std::string& function, const std::string& why) {
  throw tvm::ffi::Error(
      "ValueError",
      "codegen project_llm (relax.ext.project_llm): function '" + function + "': " + why, "");
}

// ---- Reading Relax nodes by reflection -------------------------------------------------------

// Field `name` of `obj`, looked up on its type and its ancestors; None if it has none.
Any Field(const ObjectRef& obj, const char* name) {
  if (!obj.defined()) return Any();
  const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(obj->type_index());
  for (int32_t depth = info->type_depth; depth >= 0; --depth) {
    const TVMFFITypeInfo* t = depth == info->type_depth ? info : info->type_ancestors[depth];
    for (int32_t i = 0; i < t->num_fields; ++i) {
      const TVMFFIByteArray& n = t->fields[i].name;
      if (std::string(n.data, n.size) == name) {
        return tvm::ffi::reflection::FieldGetter(&t->fields[i])(obj);
      }
    }
  }
  return Any();
}

std::string TypeKey(const ObjectRef& obj) {
  if (!obj.defined()) return "";
  const TVMFFITypeInfo* info = TVMFFIGetTypeInfo(obj->type_index());
  return std::string(info->type_key.data, info->type_key.size);
}

// A function attribute (from its DictAttrs), or None.
Any Attr(const ObjectRef& func, const char* key) {
  auto attrs = Field(func, "attrs").cast<tvm::ffi::Optional<ObjectRef>>();
  if (!attrs) return Any();
  auto dict = Field(*attrs, "__dict__").cast<Map<String, Any>>();
  auto it = dict.find(key);
  return it == dict.end() ? Any() : (*it).second;
}

/*! \brief A tensor of a static shape, as a function parameter's or result's type says. */
struct TensorInfo {
  std::vector<int64_t> shape;
  std::string dtype;
};

TensorInfo TensorOf(const std::string& function, const ObjectRef& type, const std::string& what) {
  if (TypeKey(type) != "relax.TensorType") Fail(function, what + " is not a tensor");
  TensorInfo t;
  Any dtype = Field(type, "dtype");  // an ir.PrimType on 0.27
  if (auto prim = dtype.try_cast<ObjectRef>()) dtype = Field(*prim, "dtype");
  t.dtype = tvm::ffi::DLDataTypeToString(dtype.cast<DLDataType>());
  auto shape = Field(type, "shape").cast<tvm::ffi::Optional<ObjectRef>>();
  if (!shape || TypeKey(*shape) != "relax.expr.ShapeExpr") {
    Fail(function, what + " has no static shape");
  }
  for (const Any& v : Field(*shape, "values").cast<Array<Any>>()) {
    tir::IntImm imm = tir::Expr(v.cast<ObjectRef>()).as<tir::IntImm>();
    if (!imm.defined()) Fail(function, what + " has a symbolic shape");
    t.shape.push_back(imm.value());
  }
  return t;
}

/*! \brief One outlined function: its symbol, its composite pattern, its tensors. */
struct Outlined {
  std::string symbol;
  std::string composite;
  std::vector<TensorInfo> params;  // in the outlined function's parameter order
  TensorInfo result;
  // For project_llm.dense: which parameter is x and which is w; for batch_matmul: a and b.
  int lhs = -1, rhs = -1;
};

// The calls in a function body's bindings, in order.
std::vector<std::pair<ObjectRef, ObjectRef>> Bindings(const ObjectRef& func) {
  std::vector<std::pair<ObjectRef, ObjectRef>> out;  // (var, value)
  ObjectRef body = Field(func, "body").cast<ObjectRef>();
  for (const Any& block : Field(body, "blocks").cast<Array<Any>>()) {
    for (const Any& binding : Field(block.cast<ObjectRef>(), "bindings").cast<Array<Any>>()) {
      ObjectRef b = binding.cast<ObjectRef>();
      out.emplace_back(Field(b, "var").cast<ObjectRef>(), Field(b, "value").cast<ObjectRef>());
    }
  }
  return out;
}

std::string OpName(const ObjectRef& call) {
  ObjectRef op = Field(call, "op").cast<ObjectRef>();
  if (TypeKey(op) != "ir.Op") return "";
  return std::string(Field(op, "name").cast<String>());
}

int IndexOf(const Array<Any>& items, const ObjectRef& item) {
  for (int64_t i = 0; i < items.size(); ++i) {
    if (items[i].cast<ObjectRef>().same_as(item)) return static_cast<int>(i);
  }
  return -1;
}

Outlined Read(const ObjectRef& func) {
  Outlined o;
  auto symbol = Attr(func, "global_symbol").try_cast<String>();
  o.symbol = symbol ? std::string(*symbol) : "<no global_symbol>";
  if (!symbol) Fail(o.symbol, "it has no global_symbol");
  Array<Any> params = Field(func, "params").cast<Array<Any>>();
  for (int64_t i = 0; i < params.size(); ++i) {
    o.params.push_back(TensorOf(o.symbol,
                                Field(params[i].cast<ObjectRef>(), "ty").cast<ObjectRef>(),
                                "parameter " + std::to_string(i)));
  }
  o.result = TensorOf(o.symbol, Field(func, "ret_ty").cast<ObjectRef>(), "its result");
  // The body: `local = <composite function>; out = local(args)`.
  ObjectRef composite, call;
  for (const auto& [var, value] : Bindings(func)) {
    if (TypeKey(value) == "relax.expr.Function" && Attr(value, "Composite") != nullptr) {
      composite = value;
    } else if (TypeKey(value) == "ir.Call") {
      call = value;
    }
  }
  if (!composite.defined() || !call.defined()) Fail(o.symbol, "it calls no composite function");
  o.composite = std::string(Attr(composite, "Composite").cast<String>());
  if (o.composite != "project_llm.dense" && o.composite != "project_llm.batch_matmul") {
    Fail(o.symbol, "unknown composite '" + o.composite +
                       "' (project_llm compiles project_llm.dense and project_llm.batch_matmul)");
  }
  // The composite's parameters are bound to the outlined function's parameters by the call.
  Array<Any> inner = Field(composite, "params").cast<Array<Any>>();
  Array<Any> args = Field(call, "args").cast<Array<Any>>();
  auto outer_index = [&](const ObjectRef& inner_var) {
    int i = IndexOf(inner, inner_var);
    if (i < 0 || i >= args.size()) return -1;
    return IndexOf(params, args[i].cast<ObjectRef>());
  };
  std::vector<std::pair<ObjectRef, ObjectRef>> body = Bindings(composite);
  for (const auto& [var, value] : body) {
    if (TypeKey(value) != "ir.Call" || OpName(value) != "relax.matmul") continue;
    Array<Any> operands = Field(value, "args").cast<Array<Any>>();
    ObjectRef lhs = operands[0].cast<ObjectRef>(), rhs = operands[1].cast<ObjectRef>();
    if (o.composite == "project_llm.dense") {
      for (const auto& [v2, producer] : body) {  // rhs = permute_dims(w)
        if (v2.same_as(rhs) && OpName(producer) == "relax.permute_dims") {
          rhs = Field(producer, "args").cast<Array<Any>>()[0].cast<ObjectRef>();
        }
      }
    }
    o.lhs = outer_index(lhs);
    o.rhs = outer_index(rhs);
  }
  if (o.lhs < 0 || o.rhs < 0) {
    Fail(o.symbol, "composite '" + o.composite + "' is not a matmul of its parameters");
  }
  for (const TensorInfo& t : o.params) {
    if (t.dtype != "float32") Fail(o.symbol, "an operand is " + t.dtype + ", not float32");
  }
  return o;
}

// ---- Kernels ----------------------------------------------------------------------------------

GlobalFunction<ObjectRef(ObjectRef, String, Any)> with_attr{"ir.BaseFuncWithAttr"};
GlobalFunction<bool(String, ObjectRef)> cpu_has_feature{"target.llvm_cpu_has_feature"};

// TE and TOPI's compute definitions (TVM's C++ operator library) take packed arguments (a
// shape as a variant, a dtype as a type), and project_a's schedule may load after this
// extension: these are looked up when used.
Function Global(const char* name) {
  auto f = Function::GetGlobal(name);
  if (!f) {
    throw tvm::ffi::Error("RuntimeError",
                          std::string("project_llm: the global function '") + name +
                              "' is not registered" +
                              (std::string(name).rfind("project_a.", 0) == 0
                                   ? " (project_llm's dense kernels use project_a's micro-kernel: "
                                     "install and load project_a)"
                                   : ""),
                          "");
  }
  return *f;
}

Array<ObjectRef> Shape(const std::vector<int64_t>& dims) {
  Array<ObjectRef> out;
  for (int64_t d : dims) out.push_back(tir::IntImm::Make(DLDataType{kDLInt, 32, 1}, d));
  return out;
}

ObjectRef Placeholder(const std::vector<int64_t>& shape, const char* name) {
  return Global("te.Placeholder")(Shape(shape), String("float32"), String(name)).cast<ObjectRef>();
}

int64_t Product(const std::vector<int64_t>& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= dims[i];
  return p;
}

/*! \brief The register tile for a CPU: nr = one vector register of float32, mr = 8 rows. */
struct Tile {
  int64_t mr, nr;
};
Tile TileFor(const ObjectRef& target) {
  if (cpu_has_feature("avx512f", target)) return {8, 16};
  if (cpu_has_feature("avx2", target)) return {8, 8};
  return {4, 4};
}

std::vector<std::string> BlockNames(const Schedule& sch) {
  std::vector<std::string> names;
  for (const SBlockRV& rv : sch.GetChildBlocks(sch.GetSBlock("root"))) {
    names.push_back(std::string(tir::SBlock(sch.Get(rv)).name_hint()));
  }
  return names;
}

Schedule ScheduleOf(const std::string& symbol, const ObjectRef& func);
ObjectRef Lookup(const Schedule& sch, const std::string& symbol);

// Y = x @ w^T for x (..., M, K), w (N, K), as Y^T = w @ x^T on project_a's micro-kernel.
ObjectRef DenseKernel(const Outlined& o, const ObjectRef& target) {
  const TensorInfo &x = o.params[o.lhs], &w = o.params[o.rhs];
  if (w.shape.size() != 2 || x.shape.size() < 2 || x.shape.back() != w.shape[1]) {
    Fail(o.symbol, "project_llm.dense needs x (..., M, K) and w (N, K)");
  }
  const int64_t k = w.shape[1], n = w.shape[0], m = Product(x.shape, 0, x.shape.size() - 1);
  std::vector<ObjectRef> params(o.params.size());
  params[o.lhs] = Placeholder(x.shape, "x");
  params[o.rhs] = Placeholder(w.shape, "w");
  Function reshape = Global("topi.reshape"), transpose = Global("topi.transpose"),
           matmul = Global("topi.matmul");
  Array<int64_t> swap{1, 0};
  ObjectRef xt = transpose(reshape(params[o.lhs], Shape({m, k})), swap).cast<ObjectRef>();
  ObjectRef yt = matmul(params[o.rhs], xt, false, false).cast<ObjectRef>();
  ObjectRef y = reshape(transpose(yt, swap), Shape(o.result.shape)).cast<ObjectRef>();
  Array<ObjectRef> args(params.begin(), params.end());
  args.push_back(y);
  Schedule sch = ScheduleOf(o.symbol, Global("te.CreatePrimFunc")(args, Any()).cast<ObjectRef>());
  // Blocks: reshape(x), transpose, the matmul, transpose, reshape(y). The micro-kernel packs
  // the matmul's operands; the copies before it are inlined into the packing, those after it
  // into the write-back of the accumulator tile.
  std::vector<std::string> names = BlockNames(sch);
  Function check = Global("project_a.schedule.check_matmul");
  auto is_matmul = [&](const std::string& name) {
    return std::string(check(sch.ref(), String(name)).cast<String>()).empty();
  };
  auto it = std::find_if(names.begin(), names.end(), is_matmul);
  if (it == names.end()) Fail(o.symbol, "project_a's micro-kernel refuses its matmul block");
  const Tile tile = TileFor(target);
  Global("project_a.schedule.matmul_microkernel")(sch.ref(), String(*it), tile.mr, tile.nr,
                                                  int64_t{1024}, true);
  for (auto p = names.begin(); p != it; ++p) sch.ComputeInline(sch.GetSBlock(*p));
  for (auto c = it + 1; c != names.end(); ++c) sch.ReverseComputeInline(sch.GetSBlock(*c));
  return Lookup(sch, o.symbol);
}

// C = a @ b for a (..., M, K), b (..., K, N) with the same batch dimensions.
ObjectRef BatchMatmulKernel(const Outlined& o, const ObjectRef& target) {
  const TensorInfo &a = o.params[o.lhs], &b = o.params[o.rhs];
  const size_t rank = a.shape.size();
  bool ok = rank >= 3 && b.shape.size() == rank && a.shape[rank - 1] == b.shape[rank - 2];
  for (size_t i = 0; ok && i + 2 < rank; ++i) ok = a.shape[i] == b.shape[i];
  if (!ok) Fail(o.symbol, "project_llm.batch_matmul needs a (..., M, K), b (..., K, N)");
  std::vector<ObjectRef> params(o.params.size());
  params[o.lhs] = Placeholder(a.shape, "a");
  params[o.rhs] = Placeholder(b.shape, "b");
  std::string batch;
  for (size_t i = 0; i + 2 < rank; ++i) batch += static_cast<char>('p' + i);
  ObjectRef c = Global("topi.einsum")(String(batch + "ik," + batch + "kj->" + batch + "ij"),
                                      Array<ObjectRef>{params[o.lhs], params[o.rhs]})
                    .cast<ObjectRef>();
  Array<ObjectRef> args(params.begin(), params.end());
  args.push_back(c);
  Schedule sch = ScheduleOf(o.symbol, Global("te.CreatePrimFunc")(args, Any()).cast<ObjectRef>());
  SBlockRV block = sch.GetChildBlocks(sch.GetSBlock("root")).at(0);
  std::vector<LoopRV> loops = sch.GetLoops(block);  // batch..., i, j, k
  const int64_t m = a.shape[rank - 2], n = b.shape[rank - 1];
  Tile tile = TileFor(target);
  while (tile.mr > 1 && m % tile.mr != 0) --tile.mr;  // exact splits: no predicate
  if (n % tile.nr != 0) tile.nr = 1;
  LoopRV batches = sch.Fuse(std::vector<LoopRV>(loops.begin(), loops.end() - 3));
  std::vector<LoopRV> is = sch.Split(loops[rank - 2], {std::nullopt, tile.mr});
  std::vector<LoopRV> js = sch.Split(loops[rank - 1], {std::nullopt, tile.nr});
  LoopRV k = loops[rank];
  sch.Reorder({batches, is[0], js[0], k, is[1], js[1]});
  SBlockRV acc = sch.CacheWrite(block, 0, "global");  // the tile, kept in registers by LLVM
  sch.ReverseComputeAt(acc, js[0]);
  sch.Unroll(is[1]);
  if (tile.nr > 1) sch.Vectorize(js[1]);
  sch.Parallel(batches);
  sch.DecomposeReduction(block, k);
  return Lookup(sch, o.symbol);
}

GlobalFunction<ObjectRef(ObjectRef, Map<Any, Any>)> module_from_expr{"ir.Module_FromExpr"};
GlobalFunction<ObjectRef(ObjectRef, String)> module_lookup{"ir.Module_Lookup_str"};
GlobalFunction<ObjectRef(String)> global_var{"ir.GlobalVar"};
GlobalFunction<ObjectRef(bool)> current_target{"target.TargetCurrent"};

Schedule ScheduleOf(const std::string& symbol, const ObjectRef& func) {
  ObjectRef named = with_attr(func, "global_symbol", String(symbol));
  Schedule sch = Schedule::Traced(module_from_expr(named, {}));
  sch.WorkOn(symbol);
  return sch;
}

ObjectRef Lookup(const Schedule& sch, const std::string& symbol) {
  return module_lookup(sch.mod(), String(symbol));
}

/*!
 * \brief relax.ext.project_llm: compile the outlined functions to one runtime module with a
 *        function per function, named by its global_symbol.
 */
tvm::ffi::Array<tvm::ffi::Any> CodegenMatmul(Array<ObjectRef> functions, Map<String, Any> options,
                                             Map<Any, Any> constant_names) {
  (void)options;
  (void)constant_names;  // the patterns bind no constants
  if (functions.empty()) return {};
  ObjectRef target = current_target(true);
  if (!target.defined()) {
    throw tvm::ffi::Error("ValueError",
                          "codegen project_llm (relax.ext.project_llm): no current target; run "
                          "RunCodegen inside `with tvm.target.Target(...)` (tvm.compile does)",
                          "");
  }
  Map<ObjectRef, ObjectRef> kernels;
  for (const ObjectRef& func : functions) {
    Outlined o = Read(func);
    ObjectRef kernel;
    try {
      if (o.composite == "project_llm.dense") {
        kernel = DenseKernel(o, target);
      } else {
        kernel = BatchMatmulKernel(o, target);
      }
    } catch (const tvm::ffi::Error& err) {
      if (err.message().find("codegen project_llm") != std::string::npos) throw;
      Fail(o.symbol, err.kind() + ": " + err.message());
    }
    kernels.Set(global_var(String(o.symbol)), kernel);
  }
  ObjectRef mod = Global("ir.IRModule")(kernels, Any(), Map<String, Any>()).cast<ObjectRef>();
  return {Global("tirx.build")(mod, target, String("default"))};
}

/*! \brief (mr, nr): the register tile the kernels use for a CPU target. */
tvm::ffi::Array<int64_t> TileOf(ObjectRef target) {
  Tile t = TileFor(target);
  return {t.mr, t.nr};
}

}  // namespace
}  // namespace project_llm

TVM_EXTEND_REGISTER_FUNC("project_llm.codegen.matmul", project_llm::CodegenMatmul);
TVM_EXTEND_REGISTER_FUNC("project_llm.codegen.tile", project_llm::TileOf);
