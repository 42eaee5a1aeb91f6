/*!
 * \file backend.cc
 * \brief project_b.counting_c: an ext_dev backend that counts the loads and stores of each buffer
 *        and compiles its kernels to C with TVM's C generator and the system C compiler; a
 *        profiler reads the counts (project_b.profile in Python).
 *
 * The counters are a TIR pass, project_b.transform.CountAccesses, that runs before code
 * generation: the kit's <tvm_extend/backend/c_source.h> builds the instrumented kernels and
 * <tvm_extend/backend/counters.h> gives the module the counters. This file adds the pass and the
 * options (in the target's libs, "name=value"): counters=on|off, opt=0..3, cc=<compiler>,
 * cache=<folder for the generated source and library>.
 */
#include <tvm_extend/backend/backend.h>
#include <tvm_extend/backend/c_module.h>
#include <tvm_extend/backend/c_source.h>
#include <tvm_extend/backend/counters.h>
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
#include <tvm_extend/transform/prim_func_pass.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace project_b {
namespace {
using namespace tvm_extend::tir;  // NOLINT(build/namespaces)
using tvm_extend::backend::KernelCounters;

constexpr const char* kName = "project_b.counting_c";

/*! \brief The buffers that expressions read, once per read, in evaluation order. */
struct Loads : StmtExprVisitor {
  std::vector<std::string> buffers;
  void VisitExpr_(const TensorLoad& op) override {
    StmtExprVisitor::VisitExpr_(op);
    if (Var buffer = op.source().as<Var>(); buffer.defined()) buffers.push_back(buffer.name());
  }
};

/*! \brief The buffers a kernel reads or writes, in the order of their first access. */
std::vector<std::string> AccessedBuffers(const Stmt& body) {
  struct Collector : Loads {
    void VisitStmt_(const BufferStore& op) override {
      StmtExprVisitor::VisitStmt_(op);
      buffers.push_back(op.buffer().name());
    }
  } collector;
  collector.VisitStmt(body);
  std::vector<std::string> unique;
  for (const std::string& b : collector.buffers) {
    if (std::find(unique.begin(), unique.end(), b) == unique.end()) unique.push_back(b);
  }
  return unique;
}

/*!
 * \brief Before each statement, the counters of the loads its own expressions make: a load
 *        counts once each time its statement runs (a while loop's condition, each time it is
 *        evaluated), a store once each time it runs. The counts are TIR's: the loads on both
 *        sides of a select or an if_then_else count.
 */
class CountAccesses : public StmtExprMutator {
 public:
  explicit CountAccesses(const KernelCounters& counters) : counters_(counters) {}

  Stmt VisitStmt_(const BufferStore& op) override {
    std::vector<Expr> read{op.value()};
    for (const Expr& index : op.indices()) read.push_back(index);
    std::vector<Stmt> seq = Count(read);
    seq.push_back(counters_.Increment(std::string(op.buffer().name()) + ".stores"));
    seq.push_back(op);
    return Seq(seq);
  }
  Stmt VisitStmt_(const Bind& op) override { return Before({op.value()}, op); }
  Stmt VisitStmt_(const Evaluate& op) override { return Before({op.value()}, op); }
  Stmt VisitStmt_(const AssertStmt& op) override { return Before({op.condition()}, op); }
  Stmt VisitStmt_(const IfThenElse& op) override {
    return Before({op.condition()}, VisitChildren(op));
  }
  Stmt VisitStmt_(const For& op) override {
    return Before({op.min(), op.extent()}, VisitChildren(op));
  }
  Stmt VisitStmt_(const While& op) override {
    std::vector<Stmt> body{VisitStmt(op.body())};
    for (const Stmt& s : Count({op.condition()})) body.push_back(s);  // each later evaluation
    return Before({op.condition()}, While::Make(op.condition(), Seq(body)));
  }
  // Keeps sequences flat, as TVMScript writes them.
  Stmt VisitStmt_(const SeqStmt& op) override {
    std::vector<Stmt> seq;
    for (const Stmt& item : op.seq()) {
      Stmt s = VisitStmt(item);
      if (SeqStmt inner = s.as<SeqStmt>(); inner.defined()) {
        for (const Stmt& i : inner.seq()) seq.push_back(i);
      } else {
        seq.push_back(s);
      }
    }
    return Seq(seq);
  }

 private:
  // One increment per counter, by the number of reads of its buffer in `exprs`.
  std::vector<Stmt> Count(const std::vector<Expr>& exprs) const {
    Loads loads;
    for (const Expr& e : exprs) loads.VisitExpr(e);
    std::vector<std::pair<std::string, int64_t>> per_buffer;
    for (const std::string& b : loads.buffers) {
      auto it = std::find_if(per_buffer.begin(), per_buffer.end(),
                             [&](const auto& p) { return p.first == b; });
      if (it == per_buffer.end()) {
        per_buffer.emplace_back(b, 1);
      } else {
        ++it->second;
      }
    }
    std::vector<Stmt> out;
    for (const auto& [buffer, n] : per_buffer) {
      out.push_back(counters_.Increment(buffer + ".loads", n));
    }
    return out;
  }
  Stmt Before(const std::vector<Expr>& exprs, const Stmt& stmt) const {
    std::vector<Stmt> seq = Count(exprs);
    seq.push_back(stmt);
    return Seq(seq);
  }
  static Stmt Seq(const std::vector<Stmt>& items) {
    if (items.size() == 1) return items[0];
    return SeqStmt::Make(tvm_extend::ir::List<Stmt>(
        tvm::ffi::Array<tvm::ffi::ObjectRef>(items.begin(), items.end())));
  }

  const KernelCounters& counters_;
};

tvm::ffi::ObjectRef CountAccessesPass() {
  return tvm_extend::transform::MakePrimFuncPass(
      "project_b.transform.CountAccesses",
      [](tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
        PrimFunc f(func);
        std::vector<std::string> names;
        for (const std::string& buffer : AccessedBuffers(f.body())) {
          names.push_back(buffer + ".loads");
          names.push_back(buffer + ".stores");
        }
        if (names.empty()) return func;
        KernelCounters counters(names, "project_b_counters");
        return counters.AddTo(func, CountAccesses(counters).VisitStmt(f.body()));
      },
      0);
}

tvm::ffi::Module Build(tvm::ffi::ObjectRef mod, tvm::ffi::ObjectRef,
                       tvm_extend::backend::Options options) {
  const std::string counters = options["counters"];
  if (counters != "on" && counters != "off") {
    throw tvm::ffi::Error("ValueError", "option counters=" + counters + ": give on or off", "");
  }
  const std::string opt = options["opt"];
  if (opt.size() != 1 || opt[0] < '0' || opt[0] > '3') {
    throw tvm::ffi::Error("ValueError", "option opt=" + opt + ": give 0, 1, 2 or 3", "");
  }
  const std::string command = std::string(options["cc"]) + " -O" + opt +
                              " -std=gnu11 -Werror=implicit-function-declaration "
                              "-Werror=int-conversion -Wno-unused";
  std::vector<tvm::ffi::ObjectRef> passes;
  if (counters == "on") passes.push_back(CountAccessesPass());
  return tvm_extend::backend::BuildCSource(kName, mod, command, options["cache"], passes);
}

}  // namespace
}  // namespace project_b

TVM_EXTEND_REGISTER_PRIM_FUNC_PASS_FACTORY("project_b.transform.CountAccesses",
                                           project_b::CountAccessesPass);

TVM_EXTEND_REGISTER_BACKEND("project_b.counting_c", [] {
  return tvm_extend::backend::BackendSpec(
             "C with a load and a store counter per buffer, compiled by the system C compiler")
      .target_kind("ext_dev")
      .host_memory()
      .option("counters", "on", "count loads and stores per buffer: on or off")
      .option("opt", "2", "optimisation level of the C compiler: 0 to 3")
      .option("cc", "cc", "the C compiler")
      .option("cache", "", "folder for the generated source and library (default: the user cache)")
      .build(project_b::Build)
      .load_from_bytes([](tvm::ffi::Bytes bytes) {
        return tvm_extend::backend::LoadCModule(project_b::kName, bytes);
      });
});
