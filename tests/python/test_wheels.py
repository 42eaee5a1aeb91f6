"""Wheels: an example extension's wheel installs into a fresh virtual environment beside
apache-tvm and works there with no LD_LIBRARY_PATH; its metadata pins the TVM release; next to
another TVM it fails at import with both versions named."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tvm

from conftest import ROOT, release_constraints


def run(cmd, **kw):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    pip = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-build-isolation",
        "--no-deps",
        "-w",
        str(dist),
    ]
    run([*pip, str(ROOT)])
    run([*pip, str(ROOT / "examples" / "my_custom_pass")])
    return dist


def venv_with_wheels(python: str, venv: Path, wheels: Path) -> str:
    """A fresh venv of `python` with the kit's and the example's wheels (and what they need)."""
    run([python, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # The TVM the wheels were built against: the running release's pins.
    run([*pip, "-c", str(release_constraints()), *map(str, sorted(wheels.glob("*.whl")))])
    return py


def test_wheel_metadata_pins_the_tvm_release(wheels):
    [wheel] = wheels.glob("my_custom_pass-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
        names = zf.namelist()
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist: apache-tvm")]
    # The releases its binary binds on (scripts/crossload.sh): 0.26 and 0.27.
    assert requires and re.search(r"apache-tvm(<0\.28,>=0\.26|>=0\.26,<0\.28)", requires[0]), (
        requires
    )
    assert "my_custom_pass/libmy_custom_pass.so" in names
    assert any(n.startswith("my_custom_pass-1.0.0.dist-info/entry_points.txt") for n in names)


def test_wheel_works_in_a_fresh_venv_without_ld_library_path(wheels, tmp_path):
    py = venv_with_wheels(sys.executable, tmp_path / "venv", wheels)
    venv = tmp_path / "venv"
    code = (
        "import tvm, tvm_ffi, my_custom_pass, tvm_extend\n"
        "x = tvm.tirx.Var('x', 'int32')\n"
        "print(tvm_ffi.structural_equal(my_custom_pass.rewrite_expr(x * 8), x << 3),"
        " tvm.__version__, tvm_extend.list_extensions()[0].path)\n"
    )
    out = run([py, "-c", code], env={"PATH": "/usr/bin:/bin"})  # no LD_LIBRARY_PATH
    rewritten, version, path = out.stdout.split()
    assert rewritten == "True" and version == tvm.__version__
    assert path.startswith(str(venv))

    # Next to a TVM release of another IR model (simulated by its version file), import fails
    # clearly.
    [version_file] = (venv / "lib").glob("python*/site-packages/tvm/_version.py")
    text = version_file.read_text()
    version_file.write_text(text.replace(tvm.__version__, "0.25.0"))
    bad = subprocess.run(
        [py, "-c", "import my_custom_pass"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert bad.returncode != 0
    assert "ExtensionVersionError" in bad.stderr
    assert f"built against TVM {tvm.__version__} but the running TVM is 0.25.0" in bad.stderr
    assert Path(py).exists()


def other_python_minor() -> str | None:
    """A Python 3 interpreter of another minor version than this one (>= 3.9), if installed."""
    candidates = [shutil.which(f"python3.{m}") for m in range(9, 15)]
    candidates += [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.*/bin/python3"))]
    for exe in filter(None, candidates):
        out = subprocess.run(
            [exe, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        version = out.stdout.strip()
        if out.returncode == 0 and version != str(sys.version_info[:2]):
            if tuple(int(p) for p in version.strip("()").split(",")) >= (3, 9):
                return exe
    return None


def test_wheels_are_py3(wheels):
    """The libraries use tvm-ffi's C ABI, not CPython's: one wheel serves every Python 3."""
    names = sorted(w.name for w in wheels.glob("*.whl"))
    assert len(names) == 2, names
    for name in names:
        assert "-py3-none-linux_x86_64.whl" in name or "-py3-none-manylinux" in name, name


def test_py3_wheels_run_on_another_python_minor(wheels, tmp_path):
    exe = other_python_minor()
    if exe is None:
        pytest.skip("no Python of another minor version here; the py3 tag is checked above")
    py = venv_with_wheels(exe, tmp_path / "venv", wheels)
    code = (
        "import sys, tvm, tvm_ffi\n"  # import tvm alone loads the extension (tvm.backends)
        "x = tvm.tirx.Var('x', 'int32')\n"
        "f = tvm.get_global_func('my_custom_pass.rewrite_expr')\n"
        "print(sys.version_info[:2], tvm_ffi.structural_equal(f(x * 8), x << 3))\n"
    )
    out = run([py, "-c", code], env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip().endswith("True"), out.stdout
    assert str(sys.version_info[:2]) not in out.stdout


def test_pip_install_both_ways_from_a_wheelhouse(wheels, tmp_path):
    """`pip install tvm-extend` alone is enough to build an extension without build isolation,
    and the default isolated build works when tvm-extend comes from an index (a wheelhouse)."""
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "PIP_CONSTRAINT": str(release_constraints()),  # the build environment's TVM, too
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "HOME": str(tmp_path),
    }
    pip = [py, "-m", "pip", "install", "-q", "--find-links", str(wheels)]
    run([*pip, "tvm-extend"], env=env)
    for name in ("wheel_plain", "wheel_isolated"):
        run([py, "-m", "tvm_extend", "new", name, "--with", "function"], cwd=tmp_path, env=env)
    # 1. Without build isolation: only what tvm-extend brought (scikit-build-core, cmake, ninja).
    run([*pip, "--no-build-isolation", "./wheel_plain"], cwd=tmp_path, env=env)
    # 2. Isolated: pip makes a build environment with tvm-extend from the wheelhouse.
    run([*pip, "./wheel_isolated"], cwd=tmp_path, env=env)
    code = (
        "import tvm\n"
        "print(tvm.get_global_func('wheel_plain.greet')('a'),"
        " tvm.get_global_func('wheel_isolated.greet')('b'))\n"
    )
    out = run([py, "-c", code], env=env)
    assert (
        "Hello, a, from wheel_plain" in out.stdout and "Hello, b, from wheel_isolated" in out.stdout
    )
