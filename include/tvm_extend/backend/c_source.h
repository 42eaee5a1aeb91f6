/*!
 * \file tvm_extend/backend/c_source.h
 * \brief A backend's kernels as C from TVM's own C generator (`target.build.c`), compiled by the
 *        system C compiler into a runnable, cached, serializable module (c_module.h).
 *
 * \code
 * tvm::ffi::Module Build(tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef, Options options) {
 *   return tvm_extend::backend::BuildCSource("myext.c", mod, "cc -O2", options["cache"],
 *                                            {MyInstrumentation()});  // TIR passes, run first
 * }
 * // and in the BackendSpec:
 * //   .load_from_bytes([](tvm::ffi::Bytes b) { return LoadCModule("myext.c", b); })
 * \endcode
 *
 * BuildCSource takes the IRModule a backend's build function receives (the kernels TVM split
 * off for the backend's target kind) and:
 * 1. runs the backend's own TIR passes on it, e.g. an instrumentation (counters.h);
 * 2. re-targets each kernel to `c` (host `c`), as a function named like the kernel that runs
 *    on the CPU, and runs TVM's MakePackedAPI, LowerTVMBuiltin and LowerIntrin: each kernel
 *    becomes the tvm-ffi packed function `__tvm_ffi_<kernel>`, which checks its arguments and
 *    takes scratch memory from TVM's CPU workspace;
 * 3. mends what TVM's C generator gets wrong in C (PrepareForC): thread bindings become serial
 *    loops; the math calls TVM's C lowering leaves (fabs, exp2, fma, fmod) call the C library;
 *    infinite and NaN constants (printed `inff`) become divisions by zero; integer arithmetic
 *    narrower than 32 bits is cast back to its type (C computes it in int); integer min and max
 *    without loads or calls become selects (a temporary for their operands can land inside an
 *    expression). A vector expression is refused with the kernel's name;
 * 4. generates C with `target.build.c` and compiles it with BuildCModule (c_module.h): the
 *    module calls each kernel with the host's arguments, and its counters last.
 * Needs the generated <tvm_extend/ir/tir.h>.
 */
#ifndef TVM_EXTEND_BACKEND_C_SOURCE_H_
#define TVM_EXTEND_BACKEND_C_SOURCE_H_

#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/map.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/string.h>
#include <tvm_extend/backend/c_module.h>
#include <tvm_extend/backend/counters.h>
#include <tvm_extend/extension/errors.h>
#include <tvm_extend/ir/dtype.h>
#include <tvm_extend/ir/global_function.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/ir/tir_builder.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tvm_extend {
namespace backend {
namespace c_source_detail {
using tvm::ffi::ObjectRef;
using tvm_extend::ir::GlobalFunction;

#pragma GCC visibility push(hidden)
// TVM takes the module as an rvalue reference, which a schema check cannot name.
inline GlobalFunction<ObjectRef(ObjectRef, ObjectRef)> run_pass{"transform.RunPass"};
inline GlobalFunction<ObjectRef()> make_packed_api{"tirx.transform.MakePackedAPI"};
inline GlobalFunction<ObjectRef()> lower_tvm_builtin{"tirx.transform.LowerTVMBuiltin"};
inline GlobalFunction<ObjectRef()> lower_intrin{"tirx.transform.LowerIntrin"};
inline GlobalFunction<tvm::ffi::Module(tir::IRModule, ObjectRef)> build_c{"target.build.c"};
inline GlobalFunction<ObjectRef(tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any>)> make_target{
    "target.Target"};
inline GlobalFunction<tir::Op(tvm::ffi::String)> get_op{"ir.GetOp"};
#pragma GCC visibility pop

/*! \brief What TVM's C generator gets wrong in one kernel; see the file comment, step 3. */
class PrepareForC : public tir::StmtExprMutator {
 public:
  using Expr = tir::Expr;
  using Stmt = tir::Stmt;

  explicit PrepareForC(std::string kernel) : kernel_(std::move(kernel)) {}

  Expr VisitExpr(const Expr& e) override {
    if (!e.defined()) return e;
    // (0.26 types a string as a void handle: no lanes, and not a vector either.)
    if (tir::PrimType t = e.ty().as<tir::PrimType>();
        t.defined() && ir::dtype::is_vector(t.dtype())) {
      throw tvm::ffi::Error(error_kind::kValue,
                            "the C backend cannot generate the vector expression " + e.type_key() +
                                " with " + std::to_string(ir::dtype::lanes(t.dtype())) +
                                " lanes (in kernel '" + kernel_ +
                                "'): TVM's C generator writes vector types that C does not have. "
                                "Schedule ext_dev functions without vectorize or tensorize.",
                            "");
    }
    return StmtExprMutator::VisitExpr(e);
  }

  // TVM's C generator prints them as `inff` or `nan`, which C does not know; IEEE division by
  // zero makes them.
  Expr VisitExpr_(const tir::FloatImm& op) override {
    const double v = op.value();
    if (std::isfinite(v)) return op;
    DLDataType t = tir::PrimType(op.ty()).dtype();
    double numerator = std::isnan(v) ? 0.0 : (v > 0 ? 1.0 : -1.0);
    return tir::Div::Make(tir::FloatImm::Make(t, numerator), tir::FloatImm::Make(t, 0.0));
  }

  Expr VisitExpr_(const tir::Call& op) override {
    tir::Call call = VisitChildren(op);
    tir::Op callee = call.op().as<tir::Op>();
    tir::PrimType type = call.ty().as<tir::PrimType>();
    if (!callee.defined() || !type.defined()) return call;
    const std::string name = callee.name();
    if (name == "tirx.bitwise_not" || name == "tirx.shift_left") return Narrow(call);
    const DLDataType t = type.dtype();
    if (t.code != kDLFloat || (t.bits != 32 && t.bits != 64)) return call;
    for (const char* libm : {"fabs", "exp2", "fma", "fmod"}) {
      if (name == std::string("tirx.") + libm) {
        std::vector<Expr> args;
        for (const Expr& a : call.args()) args.push_back(a);
        return Extern(t, libm + std::string(t.bits == 32 ? "f" : ""), args);
      }
    }
    return call;
  }

  Expr VisitExpr_(const tir::Add& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::Sub& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::Mul& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::Div& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::Mod& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::FloorDiv& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::FloorMod& op) override { return Narrow(VisitChildren(op)); }
#if TVM_EXTEND_IR_TVM_MINOR >= 27  // node types since 0.27 (calls before, narrowed above)
  Expr VisitExpr_(const tir::LShift& op) override { return Narrow(VisitChildren(op)); }
  Expr VisitExpr_(const tir::BitwiseNot& op) override { return Narrow(VisitChildren(op)); }
#endif

  Expr VisitExpr_(const tir::Min& op) override {
    tir::Min m = VisitChildren(op);
    return Pure(m) ? Expr(tir::Select::Make(tir::LT::Make(m.a(), m.b()), m.a(), m.b())) : m;
  }
  Expr VisitExpr_(const tir::Max& op) override {
    tir::Max m = VisitChildren(op);
    return Pure(m) ? Expr(tir::Select::Make(tir::GT::Make(m.a(), m.b()), m.a(), m.b())) : m;
  }

  // A thread binding runs as a serial loop over the thread index.
  Stmt VisitStmt_(const tir::AttrStmt& op) override {
    const std::string key = op.attr_key();
    if (key != "thread_extent" && key != "virtual_thread") return StmtExprMutator::VisitStmt_(op);
    tir::Var index = tir::IterVar(op.node().cast<ObjectRef>()).var();
    DLDataType t = tir::PrimType(index.ty()).dtype();
    return tir::For::Make(index, tir::IntImm::Make(t, 0), VisitExpr(op.value()), /*serial*/ 0,
                          VisitStmt(op.body()), {}, {}, {});
  }

 private:
  static Expr Extern(DLDataType t, const std::string& function, const std::vector<Expr>& args) {
    std::vector<Expr> all{tir::StringImm::Make(function)};
    all.insert(all.end(), args.begin(), args.end());
    return tir::Call::Make(tir::PrimType::Make(t), get_op("tirx.call_pure_extern"),
                           tir::builder_detail::ToList(all), {}, {});
  }

  // Integer arithmetic without loads and calls, which C may compute twice.
  static bool Pure(const Expr& e) {
    struct Check : tir::StmtExprVisitor {
      bool pure = true;
      void VisitExpr_(const tir::TensorLoad&) override { pure = false; }
      void VisitExpr_(const tir::Call&) override { pure = false; }
    } check;
    tir::PrimType type = e.ty().as<tir::PrimType>();
    if (!type.defined() || (type.dtype().code != kDLInt && type.dtype().code != kDLUInt)) {
      return false;
    }
    check.VisitExpr(e);
    return check.pure;
  }

  // C computes integers narrower than int in int; TIR wraps around in their own type. TVM's C
  // generator prints no cast to the type an expression has already, so it goes through int32.
  static Expr Narrow(const Expr& e) {
    tir::PrimType type = e.ty().as<tir::PrimType>();
    if (!type.defined()) return e;
    DLDataType t = type.dtype();
    if ((t.code != kDLInt && t.code != kDLUInt) || t.bits <= 1 || t.bits >= 32) return e;
    return tir::Cast::Make(type, tir::Cast::Make(tir::PrimType::Make(tir::kInt32), e));
  }

  std::string kernel_;
};

/*! \brief `mod` with each PrimFunc replaced by `rewrite(its name, it)`. */
inline tir::IRModule MapFunctions(
    const ObjectRef& mod,
    const std::function<ObjectRef(const std::string&, tir::PrimFunc)>& rewrite) {
  tir::IRModule m(mod);
  tvm::ffi::Map<tvm::ffi::Any, tvm::ffi::Any> functions;
  for (const auto& [gv, func] : m.functions()) {
    ObjectRef f = rewrite(std::string(tir::GlobalVar(gv.cast<ObjectRef>()).name_hint()),
                          tir::PrimFunc(func.cast<ObjectRef>()));
    functions.Set(gv, f);
  }
  return tir::IRModule::Make(functions, m.attrs(), m.global_infos());
}

}  // namespace c_source_detail

/*!
 * \brief Compile the kernels of `mod` (the IRModule a backend's build function receives) to C
 *        with TVM's C generator, after the TIR `passes` (tvm.transform.Pass objects, e.g. from
 *        tvm_extend::transform::MakePrimFuncPass); see the file comment. `command` is the C
 *        compiler and its flags, `cache` the folder for the source and library ("" for the user
 *        cache). Returns a module of kind `backend` (the backend's name); give
 *        BackendSpec::load_from_bytes LoadCModule with the same name. A compiler failure raises
 *        a RuntimeError with the compiler's message and the generated source's path.
 */
inline tvm::ffi::Module BuildCSource(const std::string& backend, const tvm::ffi::ObjectRef& mod,
                                     const std::string& command, const std::string& cache,
                                     const std::vector<tvm::ffi::ObjectRef>& passes = {}) {
  using namespace c_source_detail;  // NOLINT(build/namespaces)
  ObjectRef instrumented = mod;
  for (const ObjectRef& pass : passes) instrumented = run_pass(pass, instrumented);
  const tvm::ffi::Map<tvm::ffi::String, tvm::ffi::Any> c{{"kind", tvm::ffi::String("c")}};
  const ObjectRef target = make_target({{"kind", tvm::ffi::String("c")}, {"host", c}});
  std::vector<CKernel> kernels;
  ObjectRef lowered = MapFunctions(instrumented, [&](const std::string& name, tir::PrimFunc f) {
    CKernel kernel;
    kernel.name = name;
    kernel.num_args = f.params().size();
    if (f.attrs().defined()) {
      auto attrs = f.attrs().__dict__();
      if (auto it = attrs.find(kCountersAttr); it != attrs.end()) {
        for (const tvm::ffi::String& counter :
             (*it).second.cast<tvm::ffi::Array<tvm::ffi::String>>()) {
          kernel.counters.push_back(counter);
        }
        if (!kernel.counters.empty()) --kernel.num_args;  // the counters come last
      }
    }
    kernels.push_back(std::move(kernel));
    // The kernel runs on the CPU: TVM's LowerTVMBuiltin takes its scratch memory from the CPU's
    // workspace, device 0.
    const tvm::ffi::String node("default");
    tir::Stmt body = f.body();
    body = tir::AttrStmt::Make(node, "device_type", tir::IntImm::Make(tir::kInt32, kDLCPU), body);
    body = tir::AttrStmt::Make(node, "device_id", tir::IntImm::Make(tir::kInt32, 0), body);
    ObjectRef out = f.with_body(body);
    out = counters_detail::with_attr(out, "target", target);
    out = counters_detail::with_attr(out, "calling_conv", int64_t{0});
    return counters_detail::with_attr(out, "global_symbol", tvm::ffi::String(name));
  });
  for (ObjectRef pass : {make_packed_api(), lower_tvm_builtin(), lower_intrin()}) {
    lowered = run_pass(pass, lowered);
  }
  tir::IRModule for_c = MapFunctions(lowered, [](const std::string& name, tir::PrimFunc f) {
    tir::Stmt body = PrepareForC(name).VisitStmt(f.body());
    return body.same_as(f.body()) ? ObjectRef(f) : ObjectRef(f.with_body(body));
  });
  const std::string source = build_c(for_c, target)->InspectSource("c");
  return BuildCModule(backend, source, std::move(kernels), command, cache);
}

}  // namespace backend
}  // namespace tvm_extend
#endif  // TVM_EXTEND_BACKEND_C_SOURCE_H_
