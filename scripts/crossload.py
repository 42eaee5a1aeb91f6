"""Runs extension binaries on TVM's own corpus of programs and prints what they produce.

    python scripts/crossload.py OUT.json LIB.so [LIB.so ...]

For every pass the libraries register (`*.transform.*`), on each program of
tests/python/tir_corpus.py: the printed result's SHA-256, and the numbers the compiled result
computes on a fixed input. Run with the Python of each TVM release and compare the files with
`--compare A.json B.json`: the numbers must be identical; the printed text may differ where TVM
itself builds different IR for the same call (0.26's `tirx.left_shift` makes a call, 0.27's a
node). A library that is refused is recorded with the loader's message.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

PROGRAMS = 40
# Options of the pass factories that take some.
OPTIONS = {
    "tir_passes.transform.UnrollByAnnotation": (64,),
    "tir_passes.transform.NarrowDataType": (32,),
}


def run(out_path: str, libraries: list[str]) -> int:
    os.environ.setdefault("TVM_EXTEND_NO_AUTOLOAD", "1")
    import numpy as np
    import tvm
    import tvm_extend

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
    import tir_corpus

    result = {"tvm": tvm.__version__, "extensions": {}, "refused": {}}
    for lib in libraries:
        try:
            ext = tvm_extend.load_extension(lib)
        except tvm_extend.ExtensionError as err:
            result["refused"][os.path.basename(lib)] = f"{type(err).__name__}: {err}"
            continue
        passes = {}
        for name in sorted(r.name for r in ext.registrations if ".transform." in r.name):
            make = tvm.get_global_func(name)
            runs = []
            for seed in range(PROGRAMS):
                func = tir_corpus.random_program(seed)
                mod = make(*OPTIONS.get(name, ()))(tvm.IRModule({"main": func}))
                text = mod.script()
                a = np.arange(64, dtype="int32") * 7 % 23
                b = np.zeros(64, dtype="int32")
                lib_ = tvm.compile(mod, target="llvm")
                dev = tvm.cpu()
                ta, tb = tvm.runtime.tensor(a, dev), tvm.runtime.tensor(b, dev)
                lib_["main"](ta, tb)
                runs.append(
                    {
                        "script": hashlib.sha256(text.encode()).hexdigest()[:16],
                        "numbers": hashlib.sha256(tb.numpy().tobytes()).hexdigest()[:16],
                    }
                )
            passes[name] = runs
        result["extensions"][ext.name] = {"built_tvm": ext.built_tvm_version, "passes": passes}
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    return 0


def compare(a_path: str, b_path: str) -> int:
    a, b = json.load(open(a_path)), json.load(open(b_path))
    bad = 0
    loaded = 0
    for lib, why in a["refused"].items():
        print(f"{lib}: refused on {a['tvm']}, where it was built: {why}")
        bad += 1
    for name, ea in a["extensions"].items():
        eb = b["extensions"].get(name)
        if eb is None:
            # Refused there: fine only as the policy says, a SchemaError naming what does not
            # bind (every problem at once).
            why = next((r for k, r in b["refused"].items() if k.startswith(f"lib{name}.")), "")
            precise = "does not match the IR schema" in why and "Nothing of the extension" in why
            print(f"{name}: refused on {b['tvm']}" + (" (as it must be: " if precise else " (")
                  + why.replace("\n", " ")[:600] + ")")
            bad += not precise
            continue
        loaded += 1
        for pname, runs in ea["passes"].items():
            other = eb["passes"].get(pname, [])
            same_numbers = sum(x["numbers"] == y["numbers"] for x, y in zip(runs, other))
            same_text = sum(x["script"] == y["script"] for x, y in zip(runs, other))
            ok = same_numbers == len(runs) == len(other)
            bad += not ok
            print(
                f"{pname}: {a['tvm']} vs {b['tvm']}: numbers identical on {same_numbers}/"
                f"{len(runs)} programs, printed IR identical on {same_text}/{len(runs)}"
                + ("" if ok else "  <-- DIFFERENT")
            )
    if not loaded:
        print("no library loaded on both releases")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(run(sys.argv[1], sys.argv[2:]))
