"""A C++ mutator written with tvm-extend's typed views that rebuilds every node of generated
PrimFuncs (1k, 10k and 100k statements), measured in one run beside:

- TVM's own C++ traversals of the same function: ConvertSSA (visits every node, rebuilds
  nothing here) and FlattenBuffer (rebuilds every store and load);
- the same mutation written in Python: TVM 0.27 has no `ir_transform` any more, so it is
  tvm-ffi's `structural_map` (its successor) with a Python callback on every node.

Targets: at most 1.5x TVM's built-in, at least 20x faster than Python, linear growth.
Run after scripts/setup.sh: .venv/bin/python bench/mutator.py
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

import tvm
import tvm_ffi
from tvm import tirx
from tvm_ffi.structural import structural_map

import tvm_extend

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench_mutator"


def build_extension() -> str:
    site_packages = Path(tvm_extend.__file__).parent.parent
    subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT / "bench" / "mutator_ext"),
            "-B",
            str(BUILD),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DCMAKE_PREFIX_PATH={site_packages}",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(BUILD)], check=True, capture_output=True)
    return str(BUILD / "libbench_mutator.so")


def make_func(n: int):
    """n stores `B[k] = A[k] * 3 + k`: 9 nodes each."""
    a = tirx.decl_buffer((n,), "int32", "A")
    b = tirx.decl_buffer((n,), "int32", "B")
    return tirx.PrimFunc(
        [a, b], tirx.SeqStmt([tirx.BufferStore(b, a[k] * 3 + k, [k]) for k in range(n)])
    )


def python_rebuild(func):
    int_imm = tvm.tirx.IntImm

    def callback(node):
        if isinstance(node, int_imm):
            return int_imm(node.ty.dtype, node.value)
        return node

    return structural_map(func, callback, order="post")


def best_of(fn, repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return min(samples), statistics.median(samples)


def main() -> None:
    ext = tvm_extend.load_extension(build_extension())
    rebuild, count = ext["rebuild_all"], ext["count_nodes"]
    convert_ssa, flatten = tirx.transform.ConvertSSA(), tirx.transform.FlattenBuffer()
    print(
        "| statements | nodes | tvm-extend mutator | tvm-extend visitor | TVM ConvertSSA | "
        "TVM FlattenBuffer | Python structural_map | mutator / ConvertSSA | "
        "mutator / FlattenBuffer | Python / mutator |"
    )
    print("| --- " * 10 + "|")
    for n in (1_000, 10_000, 100_000):
        func = make_func(n)
        mod = tvm.IRModule({"main": func})
        out = rebuild(func)
        assert not out.body.same_as(func.body) and tvm_ffi.structural_equal(out, func)
        repeat = 7 if n < 100_000 else 3
        ours, _ = best_of(lambda func=func: rebuild(func), repeat)
        visit, _ = best_of(lambda func=func: count(func), repeat)
        ssa, _ = best_of(lambda mod=mod: convert_ssa(mod), repeat)
        flat, _ = best_of(lambda mod=mod: flatten(mod), repeat)
        py, _ = best_of(lambda func=func: python_rebuild(func), 1 if n == 100_000 else 3)
        print(
            f"| {n:,} | {count(func):,} | {ours * 1e3:.1f} ms | {visit * 1e3:.1f} ms | "
            f"{ssa * 1e3:.1f} ms | {flat * 1e3:.1f} ms | {py * 1e3:.0f} ms | {ours / ssa:.2f}x | "
            f"{ours / flat:.2f}x | {py / ours:.0f}x |"
        )


if __name__ == "__main__":
    main()
