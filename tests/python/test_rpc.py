"""Beyond one process: TVM's RPC server (`python -m tvm.exec.rpc_server`, the process that
MetaSchedule and remote measurement use) serves the installed extensions with no extra step on
the server: it imports tvm, which loads them through their `tvm.backends` entry points."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tvm
from tvm import rpc
from tvm.script import tirx as T

import tvm_extend
from conftest import pass_recorder

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tvm.exec.rpc_server",
            "--host",
            HOST,
            "--port",
            str(port),
            "--port-end",
            str(port + 1),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            rpc.connect(HOST, port, session_timeout=30)
            break
        except Exception:  # noqa: BLE001  (not listening yet)
            if proc.poll() is not None:
                pytest.fail(f"the RPC server exited:\n{proc.stdout.read()}")
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the RPC server did not start within 120 s")
            time.sleep(0.3)
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_an_extension_function_is_called_remotely(server):
    remote = rpc.connect(HOST, server, session_timeout=60)
    shift_for = remote.get_function("my_custom_pass.shift_for")
    assert [shift_for(v) for v in (8, 1024, 6)] == [3, 10, -1]


@T.prim_func
def kernel(A: T.Buffer((64,), "int32"), B: T.Buffer((64,), "int32")):
    for i in range(64):
        B[i] = A[i] * 8 + A[i] // 4 + A[i] % 16


def test_a_kernel_built_with_an_extension_pass_runs_remotely(server, tmp_path):
    tvm_extend.pipeline.register(
        "rpc_shift",
        insert=[
            tvm_extend.pipeline.after(
                "tirx.FlattenBuffer", "my_custom_pass.transform.MulDivToShift"
            )
        ],
    )
    names = []
    with tvm.transform.PassContext(instruments=[pass_recorder(names)()]):
        lib = tvm.compile(tvm.IRModule({"main": kernel}), target="llvm", tir_pipeline="rpc_shift")
    assert "my_custom_pass.transform.MulDivToShift" in names
    path = tmp_path / "shift_kernel.so"
    lib.export_library(str(path))

    remote = rpc.connect(HOST, server, session_timeout=60)
    remote.upload(str(path))
    rlib = remote.load_module(path.name)
    dev = remote.cpu()
    a = np.arange(-32, 32, dtype="int32") * 7
    A = tvm.runtime.tensor(a, dev)
    B = tvm.runtime.tensor(np.zeros(64, "int32"), dev)
    rlib["main"](A, B)
    np.testing.assert_array_equal(B.numpy(), a * 8 + a // 4 + a % 16)


@T.prim_func
def integer_ops(A: T.Buffer((32,), "int32"), Out: T.Buffer((32,), "int32")):
    for i in range(32):
        Out[i] = T.floordiv(A[i], 3) * 7 + T.floormod(A[i], 5)


def test_a_kernel_of_an_extension_backend_runs_remotely(server, tmp_path):
    """project_b's ext_dev backend: the exported library holds its C module, which the server
    loads through the backend's module loader and runs on ext_dev, whose memory the backend
    made host memory, all registered on the server by `import tvm`."""
    project_b = pytest.importorskip("project_b")
    lib = tvm.compile(integer_ops, target=project_b.target(cache=str(tmp_path / "cache")))
    path = tmp_path / "backend_kernel.so"
    lib.export_library(str(path))

    remote = rpc.connect(HOST, server, session_timeout=60)
    remote.upload(str(path))
    rlib = remote.load_module(path.name)
    dev = remote.ext_dev(0)
    a = np.arange(-16, 16, dtype="int32")
    A = tvm.runtime.tensor(a, dev)
    Out = tvm.runtime.tensor(np.zeros(32, "int32"), dev)
    rlib["integer_ops"](A, Out)
    np.testing.assert_array_equal(Out.numpy(), (a // 3) * 7 + a % 5)
