"""The author tools: `tvm-extend new` writes a project whose tests pass at once, and
`tvm-extend doctor` reports every installed extension and states each problem with its fix."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

TVM_EXTEND = [sys.executable, "-m", "tvm_extend"]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def scaffold_install_and_test(tmp_path, name, *with_args):
    """`tvm-extend new`, pip install of the project (into a private folder), its own tests."""
    made = run([*TVM_EXTEND, "new", name, "--dir", str(tmp_path / "proj"), *with_args])
    assert made.returncode == 0, made.stderr
    site = tmp_path / "site"
    installed = run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-build-isolation",
            "--no-deps",
            "--target",
            str(site),
            str(tmp_path / "proj"),
        ]
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    tests = run(
        [sys.executable, "-m", "pytest", "-q", "tests"],
        cwd=tmp_path / "proj",
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    return made, tests


def test_new_project_installs_and_its_tests_pass(tmp_path):
    start = time.perf_counter()
    made, tests = scaffold_install_and_test(tmp_path, "scaffolded")
    assert "src/scaffolded_pass.cc" in made.stdout
    assert "4 passed" in tests.stdout
    print(f"scaffold to green: {time.perf_counter() - start:.1f} s")


def test_new_project_with_an_op(tmp_path):
    _, tests = scaffold_install_and_test(tmp_path, "opproj", "--with", "op,pass")
    assert "3 passed" in tests.stdout


def test_new_project_with_a_backend(tmp_path):
    made, tests = scaffold_install_and_test(tmp_path, "beproj", "--with", "backend,function")
    assert "src/beproj_backend.cc" in made.stdout
    assert "4 passed" in tests.stdout


def test_new_project_with_only_a_function(tmp_path):
    made = run([*TVM_EXTEND, "new", "onlyfn", "--dir", str(tmp_path / "p"), "--with", "function"])
    assert made.returncode == 0, made.stderr
    assert not (tmp_path / "p" / "src" / "onlyfn_pass.cc").exists()
    assert "onlyfn_function.cc" in (tmp_path / "p" / "CMakeLists.txt").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["new", "Bad-Name"], "cannot name an extension"),
        (["new", "class"], "cannot name an extension"),
        (["new", "fine", "--with", "magic"], "unknown; choose from pass, function, op, backend"),
    ],
)
def test_new_refuses_bad_input(tmp_path, args, message):
    out = run([*TVM_EXTEND, *args], cwd=tmp_path)
    assert out.returncode == 2 and message in out.stderr
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_new_refuses_an_existing_folder(tmp_path):
    (tmp_path / "taken").mkdir()
    out = run([*TVM_EXTEND, "new", "taken"], cwd=tmp_path)
    assert out.returncode == 2 and "already exists" in out.stderr


def test_doctor_reports_a_healthy_environment():
    out = run([*TVM_EXTEND, "doctor"])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "my_custom_pass 1.0.0 (package my-custom-pass): OK" in out.stdout
    assert "registers    my_custom_pass.transform.MulDivToShift (prim func pass)" in out.stdout
    assert "No problems found." in out.stdout


def test_doctor_states_problems_with_fixes(tmp_path, test_extensions):
    # Two broken installed extensions: one built against another TVM, one without a library.
    pkg = tmp_path / "other_tvm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    shutil.copy(test_extensions / "libother_tvm.so", pkg / "libother_tvm.so")
    (tmp_path / "nolib").mkdir()
    (tmp_path / "nolib" / "__init__.py").write_text("")
    dist = tmp_path / "broken_exts-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-exts\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[tvm_extend.extensions]\nother_tvm = other_tvm\nnolib = nolib\n"
    )
    out = run([*TVM_EXTEND, "doctor"], env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 1
    text = out.stdout
    assert "other_tvm (package broken-exts 1.0): FAILED" in text
    assert "built against TVM 0.26.0" in text
    assert "2 problem(s)" in text
    assert "other_tvm: ExtensionVersionError. Fix: rebuild it against the running TVM" in text
    assert "nolib: ExtensionLoadError. Fix: reinstall it" in text
    assert "my_custom_pass 1.0.0 (package my-custom-pass): OK" in text  # the rest still checked


def test_command_line_tool_is_installed():
    script = Path(sys.executable).parent / "tvm-extend"
    out = run([str(script), "--cmake-dir"])
    assert out.returncode == 0 and out.stdout.strip().endswith("share/cmake/tvm_extend")
    assert (ROOT / "python" / "tvm_extend" / "scaffold.py").exists()
