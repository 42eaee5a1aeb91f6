"""tir_passes' RemoveNoOp and NarrowDataType (C++ on tvm-extend's typed views) against TVM's own
`tirx.transform.RemoveNoOp()` and `NarrowDataType(32)`, on the tests' generated corpora, in one
run: each corpus (200 programs) as one IRModule of 200 PrimFuncs, each pass applied to it
`REPEATS` times, alternating with TVM's; the median time of one application is reported, with
the median of the paired ratios ours / TVM's (target: at most 1.2x). The results are checked
structurally equal first.

Run after scripts/setup.sh and installing examples/tir_passes:
.venv/bin/python bench/tvm_pass_noop_narrow.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import tir_passes
import tvm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from tir_corpus import int64_program, noop_program  # noqa: E402

PROGRAMS = 200
REPEATS = 101


def corpus(make) -> tvm.IRModule:
    return tvm.IRModule(
        {f"f{seed}": make(seed).with_attr("global_symbol", f"f{seed}") for seed in range(PROGRAMS)}
    )


def paired_ms(ours, theirs, mod) -> tuple[float, float, float]:
    """Median times of ours and TVM's, applied alternately (so both see the same machine load),
    and the median of the per-pair ratios."""
    t_ours, t_theirs = [], []
    for _ in range(REPEATS):
        for apply, samples in ((ours, t_ours), (theirs, t_theirs)):
            start = time.perf_counter()
            apply(mod)
            samples.append((time.perf_counter() - start) * 1e3)
    ratios = [a / b for a, b in zip(t_ours, t_theirs)]
    return statistics.median(t_ours), statistics.median(t_theirs), statistics.median(ratios)


def main() -> None:
    cases = [
        (
            "RemoveNoOp",
            corpus(noop_program),
            tir_passes.RemoveNoOp(),
            tvm.tirx.transform.RemoveNoOp(),
        ),
        (
            "NarrowDataType(32)",
            corpus(int64_program),
            tir_passes.NarrowDataType(32),
            tvm.tirx.transform.NarrowDataType(32),
        ),
    ]
    print(f"{PROGRAMS} programs in one IRModule, median of {REPEATS} paired applications")
    print("| pass | TIR lines | tvm-extend | TVM | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name, mod, ours, theirs in cases:
        tvm.ir.assert_structural_equal(ours(mod), theirs(mod))
        nodes = sum(len(str(f.body).splitlines()) for f in mod.functions.values())
        a, b, ratio = paired_ms(ours, theirs, mod)
        print(f"| {name} | {nodes} | {a:.2f} ms | {b:.2f} ms | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
