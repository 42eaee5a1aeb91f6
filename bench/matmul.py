"""fp32 matmul C = A @ B (M = N = K): project_a's schedule against OpenBLAS, TVM's default
schedule and the machine's FMA peak, measured in one run.

Each measurement runs in a fresh process with its thread count fixed at start-up
(TVM_NUM_THREADS for TVM, OPENBLAS_NUM_THREADS for numpy), and takes the best of several
repetitions. The peak is a C loop of independent FMA chains (AVX-512 where the CPU has it, else
AVX2), compiled with the system C compiler, run in one process per core.

    python bench/matmul.py [--sizes 1024,2048,1000] [--quick] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

PEAK_C = r"""
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CHAINS 12
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
                          return t.tv_sec + 1e-9 * t.tv_nsec; }
int main(int argc, char** argv) {
  long iters = atol(argv[1]);
  double best = 0; float sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    VEC acc[CHAINS]; VEC x = SET1(1.0000001f), y = SET1(0.9999999f);
    for (int c = 0; c < CHAINS; ++c) acc[c] = SET1((float)c);
    double t0 = now();
    for (long i = 0; i < iters; ++i) {
#pragma GCC unroll 12
      for (int c = 0; c < CHAINS; ++c) acc[c] = FMA(acc[c], x, y);
    }
    double t = now() - t0;
    for (int c = 0; c < CHAINS; ++c) { float o[LANES]; STORE(o, acc[c]); sink += o[0]; }
    double gflops = (double)iters * CHAINS * LANES * 2 / t / 1e9;
    if (gflops > best) best = gflops;
  }
  printf("%f %g\n", best, (double)sink);
  return 0;
}
"""
AVX512 = [
    "-DVEC=__m512",
    "-DSET1=_mm512_set1_ps",
    "-DFMA=_mm512_fmadd_ps",
    "-DSTORE=_mm512_storeu_ps",
    "-DLANES=16",
    "-mavx512f",
]
AVX2 = [
    "-DVEC=__m256",
    "-DSET1=_mm256_set1_ps",
    "-DFMA=_mm256_fmadd_ps",
    "-DSTORE=_mm256_storeu_ps",
    "-DLANES=8",
    "-mavx2",
    "-mfma",
]


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def peak(cores: int) -> tuple[float, str]:
    """FMA peak GFLOP/s on `cores` cores, and the vector width used."""
    wide = "avx512f" in cpu_flags()
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "peak.c", Path(tmp) / "peak"
        src.write_text(PEAK_C)
        subprocess.run(
            ["cc", "-O2", *(AVX512 if wide else AVX2), str(src), "-o", str(exe)], check=True
        )
        procs = [
            subprocess.Popen([str(exe), "100000000"], stdout=subprocess.PIPE, text=True)
            for _ in range(cores)
        ]
        total = sum(float(p.communicate()[0].split()[0]) for p in procs)
    return total, "AVX-512" if wide else "AVX2"


# One measurement, run in a child process: prints GFLOP/s (and the max relative error).
CHILD = textwrap.dedent(
    r"""
    import sys, time, numpy as np
    kind, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    if kind == "numpy":
        run = lambda: a @ b
        check = None
    else:
        import tvm
        from tvm import s_tir
        from tvm.script import tirx as T

        @T.prim_func(s_tir=True)
        def matmul(A: T.Buffer((n, n), "float32"), B: T.Buffer((n, n), "float32"),
                   C: T.Buffer((n, n), "float32")):
            for i, j, k in T.grid(n, n, n):
                with T.sblock("C"):
                    vi, vj, vk = T.axis.remap("SSR", [i, j, k])
                    with T.init():
                        C[vi, vj] = T.float32(0)
                    C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]

        target = tvm.target.Target.from_device(tvm.cpu())
        if kind == "project_a":
            import project_a
            sch = s_tir.Schedule(matmul)
            project_a.matmul_microkernel(sch, "C")
            lib = tvm.compile(sch.mod, target=target)
        else:  # TVM's default schedule, without extensions
            lib = tvm.compile(matmul, target=target)
        A, B = tvm.runtime.tensor(a), tvm.runtime.tensor(b)
        C = tvm.runtime.tensor(np.full((n, n), np.nan, dtype=np.float32))
        run = lambda: lib["matmul"](A, B, C)
        check = C
    run()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    error = 0.0
    if check is not None:
        ref = a.astype(np.float64) @ b.astype(np.float64)
        error = float(np.abs(check.numpy() - ref).max() / np.abs(ref).max())
    print(2 * n**3 / best / 1e9, error)
    """
)


def measure(kind: str, n: int, threads: int, reps: int) -> tuple[float, float]:
    env = dict(
        os.environ,
        TVM_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
    )
    if kind == "tvm_default":
        env["TVM_EXTEND_NO_AUTOLOAD"] = "1"  # TVM alone: no extension touches the pipeline
    with tempfile.TemporaryDirectory() as tmp:
        child = Path(tmp) / "child.py"  # TVMScript reads the function's source from a file
        child.write_text(CHILD)
        out = subprocess.run(
            [sys.executable, str(child), kind, str(n), str(reps)],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} n={n} threads={threads} failed:\n{out.stderr[-2000:]}")
    gflops, error = out.stdout.split()
    return float(gflops), float(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,2048,1000")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    reps = 3 if args.quick else 10
    results: dict = {"peak": {}, "rows": []}
    for cores in (1, 2):
        gflops, isa = peak(cores)
        results["peak"][cores] = gflops
        print(f"FMA peak ({isa}), {cores} core(s): {gflops:.1f} GFLOP/s", flush=True)
    print(
        f"{'n':>5} {'threads':>7} {'numpy':>8} {'project_a':>9} {'ratio':>6} {'of peak':>7} "
        f"{'max rel err':>11}"
    )
    for n in sizes:
        for threads in (1, 2):
            ref, _ = measure("numpy", n, threads, reps)
            ours, err = measure("project_a", n, threads, reps)
            row = {
                "n": n,
                "threads": threads,
                "numpy": ref,
                "project_a": ours,
                "ratio": ours / ref,
                "of_peak": ours / results["peak"][threads],
                "error": err,
            }
            results["rows"].append(row)
            print(
                f"{n:>5} {threads:>7} {ref:>8.1f} {ours:>9.1f} {ours / ref:>6.2f} "
                f"{row['of_peak']:>7.0%} {err:>11.1e}",
                flush=True,
            )
    default, _ = measure("tvm_default", 1024, 2, 1)
    results["tvm_default_1024_2threads"] = default
    print(f"TVM's default schedule, n=1024, 2 threads: {default:.2f} GFLOP/s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
