"""Two independent downstream projects in one process, on one unmodified TVM, in one tvm.compile.

- project_a (TileLang-style) schedules the matmul: its pass, contributed to TVM's default
  pipeline, applies its register-blocked micro-kernel to every matmul block of a CPU function.
- project_b (a vendor backend) builds the epilogue for ext_dev: C with per-buffer load/store
  counters, compiled by the system C compiler. The epilogue uses an op of each project.

Run: python examples/two_projects.py [--order a,b|b,a] [--size N]
"""

from __future__ import annotations

import argparse
import importlib
import time

import numpy as np
import tvm
from tvm.script import ir as I
from tvm.script import tirx as T


def model(n: int) -> tvm.IRModule:
    @I.ir_module
    class Model:
        @T.prim_func(s_tir=True)
        def matmul(
            A: T.Buffer((n, n), "float32"),
            B: T.Buffer((n, n), "float32"),
            C: T.Buffer((n, n), "float32"),
        ):
            for i, j, k in T.grid(n, n, n):
                with T.sblock("C"):
                    vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                    with T.init():
                        C[vi, vj] = T.float32(0)
                    C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]

        @T.prim_func
        def epilogue(
            C: T.Buffer((n, n), "float32"),
            bias: T.Buffer((n,), "float32"),
            D: T.Buffer((n, n), "float32"),
        ):
            for i, j in T.grid(n, n):
                D[i, j] = T.call_intrin(
                    "float32",
                    "project_b.clamp",
                    T.call_intrin("float32", "project_a.fma", C[i, j], T.float32(0.5), bias[j]),
                    -4.0,
                    4.0,
                )

    return Model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", default="a,b", help="import order of the projects")
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    projects = {}
    for letter in args.order.split(","):
        projects[letter] = importlib.import_module(f"project_{letter}")
    project_b = projects["b"]
    import tvm_extend

    n = args.size
    mod = model(n)
    mod["epilogue"] = mod["epilogue"].with_attr("target", project_b.target())
    start = time.perf_counter()
    lib = tvm.compile(mod, target=tvm.target.Target.from_device(tvm.cpu()))
    print(f"one tvm.compile for both functions: {time.perf_counter() - start:.2f} s")

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    bias = rng.standard_normal(n, dtype=np.float32)
    A, B, C = (tvm.runtime.tensor(x) for x in (a, b, np.zeros((n, n), np.float32)))
    lib["matmul"](A, B, C)
    runs = 5
    start = time.perf_counter()
    for _ in range(runs):
        lib["matmul"](A, B, C)
    seconds = (time.perf_counter() - start) / runs
    np.testing.assert_allclose(C.numpy(), a @ b, rtol=1e-3, atol=1e-3)
    print(
        f"matmul {n}x{n}x{n} (project_a's schedule, llvm): {2 * n**3 / seconds / 1e9:.1f} GFLOP/s"
    )

    dev = tvm.ext_dev(0)
    Cd, biasd, D = (
        tvm.runtime.tensor(x, dev) for x in (C.numpy(), bias, np.zeros((n, n), np.float32))
    )
    lib["epilogue"](Cd, biasd, D)
    expected = np.clip((a @ b) * 0.5 + bias, -4, 4)
    np.testing.assert_allclose(D.numpy(), expected, rtol=1e-3, atol=1e-3)
    print("epilogue (project_b's backend, ext_dev): matches numpy; loads and stores per buffer:")
    for kernel, buffers in project_b.profile(lib).items():
        for buffer, counts in sorted(buffers.items()):
            print(f"  {kernel} {buffer}: {counts['loads']} loads, {counts['stores']} stores")
    print("passes that extensions contributed to TVM's default pipeline:")
    for name, owner in tvm_extend.pipeline.describe():
        if owner != "TVM":
            print(f"  {name} ({owner})")
    print("extensions:", ", ".join(f"{e.name} {e.version}" for e in tvm_extend.list_extensions()))


if __name__ == "__main__":
    main()
