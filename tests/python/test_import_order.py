"""tvm, tvm_extend and an extension package work in any import order, and autoload is
controlled by its environment variable."""

import pytest

from conftest import run_python

CHECK = """
import numpy as np
mod_names = {order!r}
for name in mod_names:
    __import__(name)
import tvm, tvm_extend, my_custom_pass
x = tvm.tirx.Var("x", "int32")
assert str(tvm.get_global_func("my_custom_pass.rewrite_expr")(x * 8)) == "x << 3"
assert [e.name for e in tvm_extend.list_extensions()].count("my_custom_pass") == 1
print("ok")
"""


@pytest.mark.parametrize(
    "order",
    [
        ("tvm", "tvm_extend", "my_custom_pass"),
        ("tvm_extend", "tvm", "my_custom_pass"),
        ("my_custom_pass", "tvm", "tvm_extend"),
        ("my_custom_pass", "tvm_extend", "tvm"),
    ],
)
def test_import_orders(order):
    result = run_python(CHECK.format(order=order))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_autoload_through_entry_points():
    result = run_python(
        """
        import tvm, tvm_extend
        print(sorted(e.name for e in tvm_extend.list_extensions()))
        print(tvm.get_global_func("my_custom_pass.transform.MulDivToShift", allow_missing=True)
              is not None)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "'my_custom_pass'" in result.stdout and "True" in result.stdout


def test_autoload_can_be_turned_off():
    result = run_python(
        """
        import tvm, tvm_extend
        print(tvm_extend.list_extensions())
        print(tvm.get_global_func("my_custom_pass.transform.MulDivToShift", allow_missing=True))
        """,
        env={"TVM_EXTEND_NO_AUTOLOAD": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "None"]


def test_command_line():
    result = run_python(
        """
        import subprocess, sys
        for flag in ("--cmake-dir", "--version", "--tvm-version", "--include-dir"):
            print(subprocess.run([sys.executable, "-m", "tvm_extend", flag], check=True,
                                 capture_output=True, text=True).stdout.strip())
        """
    )
    assert result.returncode == 0, result.stderr
    cmake_dir, version, tvm_version, include_dir = result.stdout.split()
    assert cmake_dir.endswith("share/cmake/tvm_extend")
    assert version == "0.1.0"
    import tvm

    assert tvm_version == tvm.__version__
    assert include_dir.endswith("include")
