"""Time of tvm_extend.load_extension for the example extension, in fresh processes (a second
load in one process is a no-op). Target: <= 5 ms. TVM_EXTEND_NO_AUTOLOAD keeps autoload from
loading it first. Measured with and without the loader's probe process (TVM_EXTEND_LOAD_PROBE=0),
which runs the library's static initializers in a forked child before it is mapped here."""

import json
import os

from common import fresh_python, summary

CODE = """
import json, time, tvm, tvm_extend
path = tvm_extend.find_extension_library("my_custom_pass")
t0 = time.perf_counter()
tvm_extend.load_extension(path)
t1 = time.perf_counter()
tvm_extend.load_extension(path)
t2 = time.perf_counter()
print(json.dumps([(t1 - t0) * 1e3, (t2 - t1) * 1e3]))
"""


def main(runs: int = 10) -> dict:
    results = {}
    for probe in ("1", "0"):
        env = dict(os.environ, TVM_EXTEND_NO_AUTOLOAD="1", TVM_EXTEND_LOAD_PROBE=probe)
        samples = [json.loads(fresh_python(CODE, env)) for _ in range(runs)]
        first = [s[0] for s in samples]
        again = [s[1] for s in samples]
        label = "with the probe" if probe == "1" else "TVM_EXTEND_LOAD_PROBE=0"
        print(f"load_extension, first load, {label} (ms): {summary(first)}   target <= 5 ms")
        print(f"load_extension, already loaded, {label} (ms): {summary(again)}")
        results[probe] = {"first_ms": first, "again_ms": again}
    return results


if __name__ == "__main__":
    main()
