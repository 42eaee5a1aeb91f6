"""tir_passes.transform.VectorizeLoop (written with tvm-extend's typed views) against TVM's own
tirx.transform.VectorizeLoop, in one run, on the same generated programs
(tests/python/tir_corpus.py: vector_program, 200 seeds), each result checked equal to TVM's.

One sample is one pass over the whole corpus (200 modules), timed as this thread's CPU time
(the machine is shared: wall time mostly measured the neighbours); the figure is the median of
the samples, taken alternately so that both see the same machine state. Target: at most 1.2x
TVM.
Run after scripts/setup.sh and installing examples/tir_passes:
.venv/bin/python bench/tvm_pass_vectorize.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import tvm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))

from tir_corpus import vector_program  # noqa: E402

from common import summary  # noqa: E402


def time_corpus(vectorize, mods) -> float:
    t0 = time.thread_time()
    for mod in mods:
        vectorize(mod)
    return (time.thread_time() - t0) * 1e3


def main(programs: int = 200, samples: int = 41) -> None:
    import tir_passes

    ours, theirs = tir_passes.VectorizeLoop(), tvm.tirx.transform.VectorizeLoop()
    mods = [tvm.IRModule({"main": vector_program(seed)}) for seed in range(programs)]
    for mod in mods:  # the same result, and a warm-up of both
        tvm.ir.assert_structural_equal(ours(mod), theirs(mod))
    ours_ms, theirs_ms = [], []
    for _ in range(samples):
        theirs_ms.append(time_corpus(theirs, mods))
        ours_ms.append(time_corpus(ours, mods))
    ratio = statistics.median(ours_ms) / statistics.median(theirs_ms)
    print(f"corpus: {programs} generated programs; one sample = one pass over all (CPU ms)")
    print(f"TVM tirx.transform.VectorizeLoop:       {summary(theirs_ms)}")
    print(f"tir_passes.transform.VectorizeLoop:     {summary(ours_ms)}")
    print(f"ours / TVM (medians): {ratio:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
