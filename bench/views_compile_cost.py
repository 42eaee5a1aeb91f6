"""CPU time to compile one translation unit that uses the generated views, and the once-per-build
costs (the functors' bodies and the binding code). Target: <= 1.5 s of CPU per translation unit.

A translation unit here includes <tvm_extend/ir/tir.h>, overrides a visitor and a mutator, and
reads fields: what a pass file of an extension does. The same for a Relax pass file
(<tvm_extend/ir/relax_functor.h>: relax.h, the shared ir.h, the Relax ExprVisitor/ExprMutator)
and for one that includes both tir.h and relax.h. Measured as the compiler's user+system CPU
(resource.getrusage of the child), median of several runs, with the flags
tvm_extend_add_extension() uses (-O3, hidden visibility).
"""

from __future__ import annotations

import importlib.util
import json
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

from common import summary

SITE_PACKAGES = Path(importlib.util.find_spec("tvm_extend").submodule_search_locations[0]).parent

PASS_TU = r"""
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
using namespace tvm_extend::tir;
namespace {
struct Count : StmtExprVisitor {
  int64_t muls = 0;
  void VisitExpr_(const Mul& op) override { ++muls; StmtExprVisitor::VisitExpr_(op); }
};
struct Double : StmtExprMutator {
  Expr VisitExpr_(const IntImm& op) override {
    return IntImm::Make(op.ty().as<PrimType>().dtype(), op.value() * 2);
  }
  Stmt VisitStmt_(const For& op) override {
    return op.extent().as<IntImm>().defined() ? StmtExprMutator::VisitStmt_(op) : Stmt(op);
  }
};
}  // namespace
int64_t CountMuls(tvm::ffi::ObjectRef s) { Count c; c.VisitStmt(Stmt(s)); return c.muls; }
tvm::ffi::ObjectRef DoubleAll(tvm::ffi::ObjectRef s) { return Double().VisitStmt(Stmt(s)); }
TVM_EXTEND_EXTENSION(bench_tu, "1.0");
TVM_EXTEND_REGISTER_FUNC("bench_tu.count", CountMuls);
TVM_EXTEND_REGISTER_FUNC("bench_tu.double", DoubleAll);
"""

OTHER_TU = r"""
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/tir.h>
int64_t Extent(tvm::ffi::ObjectRef s) {
  auto loop = tvm_extend::ir::NodeRef(s).as<tvm_extend::tir::For>();
  return loop.defined() ? loop.extent().as<tvm_extend::tir::IntImm>().value() : -1;
}
TVM_EXTEND_REGISTER_FUNC("bench_tu.extent", Extent);
"""

RELAX_TU = r"""
#include <tvm_extend/extension.h>
#include <tvm_extend/ir/relax_functor.h>
using namespace tvm_extend::relax;
namespace {
struct Count : ExprVisitor {
  int64_t calls = 0;
  void VisitExpr_(const Call& op) override { ++calls; ExprVisitor::VisitExpr_(op); }
};
struct AddToMultiply : ExprMutator {
  using ExprMutator::ExprMutator;
  Expr VisitExpr_(const Call& call) override {
    Call c = VisitChildren(call);
    if (IsOp(c, "relax.add") && c.args()[0].same_as(c.args()[1])) {
      Expr x = c.args()[0];
      DLDataType t = x.ty().as<TensorType>().dtype().dtype();
      return MakeCall("relax.multiply", {x, MakeConstant(2, t)});
    }
    return c;
  }
};
tvm::ffi::ObjectRef Run(tvm::ffi::ObjectRef f, tvm::ffi::ObjectRef m, tvm::ffi::ObjectRef) {
  return AddToMultiply(IRModule(m)).Rewrite(Function(f));
}
}  // namespace
int64_t CountCalls(tvm::ffi::ObjectRef f) { Count c; c.VisitExpr(Function(f)); return c.calls; }
TVM_EXTEND_EXTENSION(bench_tu, "1.0");
TVM_EXTEND_REGISTER_FUNC("bench_tu.count", CountCalls);
TVM_EXTEND_REGISTER_RELAX_FUNCTION_PASS("bench_tu.transform.AddToMultiply", Run, 0);
"""

BOTH_TU = RELAX_TU.replace(
    "#include <tvm_extend/ir/relax_functor.h>",
    "#include <tvm_extend/ir/relax_functor.h>\n#include <tvm_extend/ir/tir.h>",
)

SOURCES = {"pass.cc": PASS_TU, "other.cc": OTHER_TU, "relax.cc": RELAX_TU, "both.cc": BOTH_TU}

CMAKE = """cmake_minimum_required(VERSION 3.18)
project(bench_tu LANGUAGES CXX)
find_package(tvm_extend CONFIG REQUIRED)
tvm_extend_add_extension(bench_tu SOURCES pass.cc)
"""


def cpu_of(command: str, cwd: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, shell=True, cwd=cwd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def configure(tmp: Path, sources: list[str]) -> tuple[Path, list[dict]]:
    src, build = tmp / "src", tmp / "build"
    src.mkdir()
    for name in sources:
        (src / name).write_text(SOURCES[name])
    (src / "CMakeLists.txt").write_text(CMAKE.replace("pass.cc", " ".join(sources)))
    subprocess.run(
        [
            "cmake", "-S", str(src), "-B", str(build), "-G", "Ninja",
            "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={SITE_PACKAGES}",
            "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return build, json.loads((build / "compile_commands.json").read_text())


def measure(label: str, commands: list[dict], suffix: str, runs: int, results: dict) -> None:
    entry = next(c for c in commands if c["file"].endswith(suffix))
    samples = [cpu_of(entry["command"], Path(entry["directory"])) for _ in range(runs)]
    results[label] = samples
    print(f"{label}: CPU s {summary(samples)}")


def main(runs: int = 5) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one"
        one.mkdir()
        build, commands = configure(one, ["pass.cc"])
        measure("per translation unit, one source (pass.cc)", commands, "pass.cc", runs, results)
        measure("once per build folder: the functors", commands, "tir_functors.cc", runs, results)
        measure("once per build folder: the binding", commands, "binding.cc", runs, results)
        header = build / "tvm_extend_generated" / "tvm_extend" / "ir" / "tir.h"
        lines = len(header.read_text().splitlines())
        two = Path(tmp) / "two"
        two.mkdir()
        build2, commands2 = configure(two, ["pass.cc", "other.cc"])
        subprocess.run(["cmake", "--build", str(build2)], check=True, capture_output=True)
        measure(
            "per translation unit, several sources (precompiled header)",
            commands2, "pass.cc", runs, results,
        )  # fmt: skip
        measure("once per extension: the precompiled header", commands2, ".hxx.cxx", runs, results)
        print(f"generated header: {lines} lines")
        for name, label in (("relax.cc", "a Relax pass"), ("both.cc", "TIR and Relax views")):
            folder = Path(tmp) / name.split(".")[0]
            folder.mkdir()
            _, commands3 = configure(folder, [name])
            measure(f"per translation unit, {label} ({name})", commands3, name, runs, results)
        measure(
            "once per build folder: the Relax functors",
            commands3,
            "relax_functor.cc",
            runs,
            results,
        )
        views = build / "tvm_extend_generated" / "tvm_extend" / "ir"
        for header in ("ir.h", "tir.h", "relax.h"):
            print(f"{header}: {len((views / header).read_text().splitlines())} lines")
        print("target: <= 1.5 s of CPU per translation unit")
        shutil.rmtree(build, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
