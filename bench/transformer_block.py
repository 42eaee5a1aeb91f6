"""The transformer block of examples/project_llm compiled by TVM's default pipeline, with and
without project_llm, against its numpy reference (OpenBLAS matmuls), on 1 and 2 threads.

Each run is a fresh process whose thread count is fixed at start (TVM_NUM_THREADS,
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS), as bench/matmul.py does. numpy and project_llm share
one process, their calls alternating, so that a busy moment of a shared machine falls on both;
project_llm is installed, so `import tvm` puts its passes into TVM's default Relax pipeline;
"tvm_default" runs alone with TVM_EXTEND_NO_AUTOLOAD=1, so no extension touches the pipeline.
Each figure is the best of `reps` calls after a warm-up call, over `--rounds` processes; the
outputs are checked against numpy (max relative error). GFLOP/s counts the block's matmuls only
(examples/project_llm/transformer_block.py: flops()). The load average is printed with the
figures: on a shared machine the 2-thread figures depend on it.

    .venv/bin/python bench/transformer_block.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = ROOT / "examples" / "project_llm" / "transformer_block.py"

CHILD = textwrap.dedent(
    r"""
    import importlib.util, json, sys, time
    import numpy as np
    spec = importlib.util.spec_from_file_location("transformer_block", sys.argv[1])
    block = importlib.util.module_from_spec(spec); spec.loader.exec_module(block)
    kinds, reps = sys.argv[2].split(","), int(sys.argv[3])
    args = block.inputs()
    ref = block.reference(*args)
    runs, features = {}, ""
    for kind in kinds:
        if kind == "numpy":
            runs[kind] = lambda: block.reference(*args)
            continue
        import tvm
        from tvm import relax
        if kind == "project_llm":  # installed: `import tvm` loaded it into the default pipeline
            import tvm_extend
            assert "project_llm" in tvm_extend.pipeline.contributors(ir="relax")
        target = tvm.target.Target.from_device(tvm.cpu())
        has = tvm.get_global_func("target.llvm_cpu_has_feature")
        features = "AVX-512" if has("avx512f", target) else "AVX2" if has("avx2", target) else "SSE"
        features += f" ({target.attrs['mcpu']})"
        vm = relax.VirtualMachine(tvm.compile(block.relax_module(), target=target), tvm.cpu())
        targs = [tvm.runtime.tensor(a) for a in args]
        fn = vm["forward"]
        runs[kind] = lambda fn=fn, targs=targs: fn(*targs).numpy()
    result = {}
    for kind, run in runs.items():
        out = run()
        result[kind] = {"ms": float("inf"), "features": features,
                        "error": float(np.abs(out - ref).max() / np.abs(ref).max())}
    for _ in range(reps):  # the configurations alternate, so that both see the same machine
        for kind, run in runs.items():
            start = time.perf_counter()
            run()
            result[kind]["ms"] = min(result[kind]["ms"], (time.perf_counter() - start) * 1e3)
    for r in result.values():
        r["gflops"] = block.flops() / r["ms"] / 1e6
    print(json.dumps(result))
    """
)


def measure(kinds: str, threads: int, reps: int) -> dict:
    env = dict(
        os.environ,
        TVM_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        OMP_NUM_THREADS=str(threads),
    )
    if kinds == "tvm_default":
        env["TVM_EXTEND_NO_AUTOLOAD"] = "1"  # TVM alone: no extension touches the pipeline
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(BLOCK), kinds, str(reps)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kinds}, {threads} thread(s) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    reps = 10 if args.quick else 50
    rows = []
    load_before = os.getloadavg()
    print(
        f"{'configuration':<14} {'threads':>7} {'ms/iter':>9} {'GFLOP/s':>8} "
        f"{'vs numpy':>8} {'max rel err':>11}"
    )
    for threads in (1, 2):
        # numpy and project_llm in one process, their calls alternating (each library reads its
        # thread count at start), the best of `rounds` processes kept.
        best: dict[str, dict] = {}
        for _ in range(args.rounds):
            for kind, r in measure("numpy,project_llm", threads, reps).items():
                if kind not in best or r["ms"] < best[kind]["ms"]:
                    best[kind] = r
        best.update(measure("tvm_default", threads, 3))  # about 2 s per call
        for kind in ("numpy", "tvm_default", "project_llm"):
            r = best[kind]
            # numpy's time over this configuration's: above 1 is faster than numpy
            r.update(kind=kind, threads=threads, speedup_vs_numpy=best["numpy"]["ms"] / r["ms"])
            rows.append(r)
            print(
                f"{kind:<14} {threads:>7} {r['ms']:>9.2f} {r['gflops']:>8.1f} "
                f"{r['speedup_vs_numpy']:>7.2f}x {r['error']:>11.1e}",
                flush=True,
            )
    features = next(r["features"] for r in rows if r["features"])
    print(f"CPU features the kernels were tiled for: {features}")
    load = [round(v, 2) for v in (*load_before, *os.getloadavg())]
    print(
        f"load average (1, 5, 15 min) before: {load[:3]}, after: {load[3:]}; {os.cpu_count()} CPUs"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"features": features, "load": load, "rows": rows}, indent=1)
        )


if __name__ == "__main__":
    main()
