"""Wheels: an example extension's wheel installs into a fresh virtual environment beside
apache-tvm and works there with no LD_LIBRARY_PATH; its metadata pins the TVM release; next to
another TVM it fails at import with both versions named."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tvm

from conftest import ROOT


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


def test_wheel_metadata_pins_the_tvm_release(wheels):
    [wheel] = wheels.glob("my_custom_pass-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
        names = zf.namelist()
    requires = [line for line in meta.splitlines() if line.startswith("Requires-Dist: apache-tvm")]
    assert requires and re.search(
        r"apache-tvm(<0\.27\.1,>=0\.27\.0|>=0\.27\.0,<0\.27\.1)", requires[0]
    ), requires
    assert "my_custom_pass/libmy_custom_pass.so" in names
    assert any(n.startswith("my_custom_pass-1.0.0.dist-info/entry_points.txt") for n in names)


def test_wheel_works_in_a_fresh_venv_without_ld_library_path(wheels, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    run(
        [
            py,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            *map(str, sorted(wheels.glob("*.whl"))),
        ]
    )
    code = (
        "import tvm, my_custom_pass, tvm_extend\n"
        "x = tvm.tirx.Var('x', 'int32')\n"
        "print(my_custom_pass.rewrite_expr(x * 8), tvm_extend.list_extensions()[0].path)\n"
    )
    out = run([py, "-c", code], env={"PATH": "/usr/bin:/bin"})  # no LD_LIBRARY_PATH
    expr, path = out.stdout.split()[:3], out.stdout.split()[-1]
    assert " ".join(expr) == "x << 3"
    assert path.startswith(str(venv))

    # Next to another TVM release (simulated by its version file), import fails clearly.
    [version_file] = (venv / "lib").glob("python*/site-packages/tvm/_version.py")
    text = version_file.read_text()
    version_file.write_text(text.replace(tvm.__version__, "0.28.0"))
    bad = subprocess.run(
        [py, "-c", "import my_custom_pass"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert bad.returncode != 0
    assert "ExtensionVersionError" in bad.stderr
    assert f"built against TVM {tvm.__version__} but the running TVM is 0.28.0" in bad.stderr
    assert Path(py).exists()
