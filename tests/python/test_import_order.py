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
tvm.ir.assert_structural_equal(tvm.get_global_func("my_custom_pass.rewrite_expr")(x * 8), x << 3)
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


def test_a_broken_installed_extension_does_not_break_import(tmp_path):
    """An entry point whose package raises on import, one in `pkg:attr` form, and one naming a
    package without a library: import tvm_extend warns and goes on; --cmake-dir still works."""
    dist = tmp_path / "broken_ext-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-ext\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[tvm_extend.extensions]\n"
        "broken = parentpkg.sub\n"
        "attr_form = my_custom_pass:extension\n"
        "nolib = emptypkg\n"
    )
    (tmp_path / "parentpkg").mkdir()
    (tmp_path / "parentpkg" / "__init__.py").write_text("raise RuntimeError('boom in parent')\n")
    (tmp_path / "emptypkg").mkdir()
    (tmp_path / "emptypkg" / "__init__.py").write_text("")
    env = {"PYTHONPATH": str(tmp_path)}
    result = run_python(
        """
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import tvm_extend
        for w in caught:
            print("WARN", w.message)
        print(sorted(e.name for e in tvm_extend.list_extensions()))
        """,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "autoload of extension 'broken' (parentpkg.sub) failed" in out
    assert "autoload of extension 'nolib' (emptypkg) failed" in out and "libemptypkg.so" in out
    assert "attr_form" not in out  # `pkg:attr` loads the package's library
    assert "'my_custom_pass'" in out.splitlines()[-1]
    cmake = run_python(
        "import subprocess, sys; print(subprocess.run([sys.executable, '-m', 'tvm_extend', "
        "'--cmake-dir'], capture_output=True, text=True, check=True).stdout)",
        env=env,
    )
    assert cmake.returncode == 0 and cmake.stdout.strip().endswith("share/cmake/tvm_extend")


def test_cmake_dir_does_not_import_tvm():
    result = run_python(
        """
        import runpy, sys
        sys.argv = ["-m", "--cmake-dir"]
        runpy.run_module("tvm_extend", run_name="__main__", alter_sys=True)
        """
    )
    assert result.returncode == 0, result.stderr
    probe = run_python(
        "import subprocess, sys; r = subprocess.run([sys.executable, '-X', 'importtime', '-m', "
        "'tvm_extend', '--cmake-dir'], capture_output=True, text=True, check=True); "
        "print('tvm_ffi' in r.stderr, ' tvm\\n' in r.stderr or '| tvm\\n' in r.stderr)"
    )
    assert probe.stdout.split() == ["False", "False"], probe.stdout + probe.stderr


def test_example_transform_submodule_as_in_the_seed():
    result = run_python(
        """
        import tvm, my_custom_pass
        p = my_custom_pass.transform.MulDivToShift()
        print(p.info.name)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "my_custom_pass.transform.MulDivToShift"


def test_import_tvm_alone_loads_installed_extensions():
    """The examples declare `tvm.backends` entry points: TVM's own autoload at `import tvm`
    loads them through the loader, before tvm_extend is imported by the user."""
    result = run_python(
        """
        import sys, tvm, tvm_ffi
        f = tvm.get_global_func("my_custom_pass.rewrite_expr", allow_missing=True)
        x = tvm.tirx.Var("x", "int32")
        print(tvm_ffi.structural_equal(f(x * 8), x << 3), "tvm_extend" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"], result.stdout + result.stderr
    off = run_python(
        "import tvm; print(tvm.get_global_func('my_custom_pass.rewrite_expr', allow_missing=True))",
        env={"TVM_EXTEND_NO_AUTOLOAD": "1"},
    )
    assert off.returncode == 0 and off.stdout.strip() == "None", off.stdout + off.stderr


def test_a_broken_tvm_backends_extension_is_a_warning_at_import_tvm(tmp_path):
    dist = tmp_path / "broken_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-backend\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[tvm.backends]\nnolib = tvm_extend.autoloader:emptypkg\n"
    )
    (tmp_path / "emptypkg").mkdir()
    (tmp_path / "emptypkg" / "__init__.py").write_text("")
    for first in ("tvm", "tvm_extend"):
        result = run_python(
            f"""
            import warnings
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                import {first}
                import tvm, tvm_extend
            print([str(w.message) for w in caught if "autoload" in str(w.message)])
            print(tvm.get_global_func("my_custom_pass.rewrite_expr", allow_missing=True))
            """,
            env={"PYTHONPATH": str(tmp_path)},
        )
        assert result.returncode == 0, result.stderr
        warned, loaded = result.stdout.strip().splitlines()[-2:]
        assert "autoload of extension 'nolib' (emptypkg) failed" in warned, result.stdout
        assert "libemptypkg.so" in warned
        assert loaded != "None"  # the healthy extensions still load
