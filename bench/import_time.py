"""Extra cost of `import tvm_extend` on top of `import tvm`, in fresh processes, with autoload
of the installed extensions (the default) and without. Target: <= 30 ms."""

import json
import os

from common import fresh_python, summary

CODE = """
import json, time
t0 = time.perf_counter()
import tvm
t1 = time.perf_counter()
import tvm_extend
t2 = time.perf_counter()
print(json.dumps([(t1 - t0) * 1e3, (t2 - t1) * 1e3, len(tvm_extend.list_extensions())]))
"""


def measure(runs: int, env: dict) -> tuple[list, list, int]:
    samples = [json.loads(fresh_python(CODE, env)) for _ in range(runs)]
    return [s[0] for s in samples], [s[1] for s in samples], samples[0][2]


def main(runs: int = 10) -> dict:
    tvm_ms, with_autoload, n_ext = measure(runs, dict(os.environ))
    _, without_autoload, _ = measure(runs, dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1"))
    print(f"import tvm (ms): {summary(tvm_ms)}")
    print(
        f"import tvm_extend after tvm, autoloading {n_ext} extension(s) (ms): "
        f"{summary(with_autoload)}   target <= 30 ms"
    )
    print(f"import tvm_extend after tvm, autoload off (ms): {summary(without_autoload)}")
    return {"tvm_ms": tvm_ms, "autoload_ms": with_autoload, "no_autoload_ms": without_autoload}


if __name__ == "__main__":
    main()
