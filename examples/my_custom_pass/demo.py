"""Demo: the C++ pass my_custom_pass.transform.MulDivToShift inside tvm.compile.

It registers a TIR pipeline derived from TVM's default one, with the pass inserted after
FlattenBuffer, compiles a kernel with it, shows the IR before and after the pass, runs the
kernel on numpy arrays and compares with the kernel compiled by the default pipeline.
"""

import numpy as np
import tvm
from tvm.script import tirx as T

import my_custom_pass
import tvm_extend


@T.prim_func
def kernel(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32")):
    for i in range(64):
        B[i] = A[i] * 8 + A[i] // 4 - A[i] % 16


def main():
    ext = my_custom_pass.extension
    print(f"extension {ext.name} {ext.version}, built against TVM {ext.built_tvm_version}")
    print(f"  from {ext.path}")
    print(f"  registers {[r.name for r in ext.registrations]}")

    tvm_extend.pipeline.register(
        "my_custom_pass",
        base="default",
        insert=[tvm_extend.pipeline.after("tirx.FlattenBuffer", my_custom_pass.MulDivToShift)],
    )
    mod = tvm.IRModule({"main": kernel})
    print("\n--- before MulDivToShift ---")
    print(mod.script())

    seen = {}

    @tvm.instrument.pass_instrument
    class CaptureAfter:
        def run_after_pass(self, mod, info):
            if info.name == "my_custom_pass.transform.MulDivToShift":
                seen["after"] = mod

    with tvm.transform.PassContext(instruments=[CaptureAfter()]):
        lib = tvm.compile(mod, target="llvm", tir_pipeline="my_custom_pass")
    print("--- after MulDivToShift, inside tvm.compile ---")
    print(seen["after"].script())

    reference = tvm.compile(mod, target="llvm")
    a = np.random.default_rng(0).integers(-1000, 1000, 64).astype("int32")
    b, b_ref = np.zeros(64, "int32"), np.zeros(64, "int32")
    lib["main"](tvm.runtime.tensor(a), out := tvm.runtime.tensor(b))
    reference["main"](tvm.runtime.tensor(a), ref := tvm.runtime.tensor(b_ref))
    expected = a * 8 + np.floor_divide(a, 4) - np.mod(a, 16)
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    print("kernel output matches numpy and the default pipeline:", out.numpy()[:8], "...")


if __name__ == "__main__":
    main()
