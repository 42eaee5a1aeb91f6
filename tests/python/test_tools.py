"""The author tools: `tvm-extend new` writes a project whose tests pass at once, and
`tvm-extend doctor` reports every installed extension and states each problem with its fix."""

import os
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
    assert "5 passed" in tests.stdout


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
    out = run(
        [*TVM_EXTEND, "doctor"], env={"PYTHONPATH": str(tmp_path), "PATH": os.environ["PATH"]}
    )
    assert out.returncode == 1
    text = out.stdout
    assert "other_tvm (package broken-exts 1.0): FAILED" in text
    assert "built against TVM 0.25.0" in text
    assert "2 problem(s)" in text
    assert "other_tvm: ExtensionVersionError. Fix: rebuild it against the running TVM" in text
    assert "nolib: ExtensionLoadError. Fix: reinstall it" in text
    assert "my_custom_pass 1.0.0 (package my-custom-pass): OK" in text  # the rest still checked


def test_command_line_tool_is_installed():
    script = Path(sys.executable).parent / "tvm-extend"
    out = run([str(script), "--cmake-dir"])
    assert out.returncode == 0 and out.stdout.strip().endswith("share/cmake/tvm_extend")
    assert (ROOT / "python" / "tvm_extend" / "scaffold.py").exists()


LONG_NAME = "a" * 300


@pytest.mark.parametrize(
    "name, message",
    [
        ("tvm", "'tvm' is TVM's own package: a wheel named so would overwrite it"),
        ("tvm_ffi", "'tvm_ffi' is tvm-ffi's own package"),
        ("tvm_extend", "'tvm_extend' is tvm-extend's own package"),
        ("tirx", "'tirx' is a namespace TVM uses"),
        ("relax", "'relax' is a namespace TVM uses"),
        ("instrument", "'instrument' is a namespace TVM uses"),  # a live prefix, not listed
        ("json", "'json' is a module of Python's standard library"),
        ("numpy", "'numpy' is already importable here (from "),
        (
            LONG_NAME,
            "'aaaaaaaaaaaaaaaaaaaa...' (300 characters) cannot name an extension: "
            "at most 64 characters",
        ),
    ],
)
def test_new_refuses_names_that_collide_or_are_too_long(tmp_path, name, message):
    out = run([*TVM_EXTEND, "new", name], cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.startswith("tvm-extend new: ") and message in out.stderr, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert not any(tmp_path.iterdir())


def test_new_ignores_a_folder_of_that_name_in_the_current_folder(tmp_path):
    # `python -m` puts the current folder first on sys.path: a project's own source tree
    # holds a folder of its name, which must not count as an installed module.
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "__init__.py").write_text("")
    out = run([*TVM_EXTEND, "new", "mine", "--dir", "proj"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr


def test_load_inline_refuses_an_overlong_name():
    import tvm_extend

    with pytest.raises(ValueError, match=r"\(300 characters\) .*at most 64 characters"):
        tvm_extend.load_inline(LONG_NAME, "int f() { return 1; }", functions=["f"])


def fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)


def test_doctor_reports_missing_build_tools(tmp_path):
    # PATH holds python only: no compiler, no cmake, no ninja or make.
    (tmp_path / "python").symlink_to(sys.executable)
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "TVM_EXTEND_NO_AUTOLOAD": "1"}
    out = run([sys.executable, "-m", "tvm_extend", "doctor"], env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout
    assert "No problems found" not in text and "Traceback" not in out.stderr
    assert (
        "C++ compiler: none found (CXX is unset and none of c++, g++, clang++ is on PATH). "
        "Fix: install one" in text
    )
    assert (
        "build tool: neither ninja nor make is on PATH" in text and "Fix: pip install ninja" in text
    )
    if "CMake      none found" in text:  # else the cmake Python package stands in
        assert "CMake: not on PATH and the cmake Python package is not installed" in text


def test_doctor_reports_a_broken_compiler_an_old_cmake_and_a_bad_cxx(tmp_path):
    (tmp_path / "python").symlink_to(sys.executable)
    fake_tool(tmp_path, "c++", "echo 'c++: cannot execute cc1plus' >&2; exit 1")
    fake_tool(tmp_path, "cmake", "echo 'cmake version 3.10.2'")
    fake_tool(tmp_path, "make", "echo 'GNU Make 4.3'")
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "TVM_EXTEND_NO_AUTOLOAD": "1"}
    out = run([sys.executable, "-m", "tvm_extend", "doctor"], env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"C++ compiler: {tmp_path}/c++ does not run (exit status 1 c++: cannot execute" in (
        out.stdout
    )
    assert f"CMake: {tmp_path}/cmake is version 3.10; tvm-extend needs 3.18 or newer" in out.stdout
    assert "build tool" not in out.stdout.split("problem(s)")[1]  # make is there
    out = run([sys.executable, "-m", "tvm_extend", "doctor"], env={**env, "CXX": "nonesuch -O2"})
    assert "C++ compiler: CXX=nonesuch -O2 names no program on PATH. Fix: set CXX" in out.stdout


def install_fake_extensions(tmp_path: Path, libraries: dict) -> None:
    """Packages whose library is ``libraries[name]`` (bytes), advertised as extensions."""
    for name, data in libraries.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / f"lib{name}.so").write_bytes(data)
    dist = tmp_path / "fake_exts-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-exts\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[tvm_extend.extensions]\n" + "".join(f"{n} = {n}\n" for n in libraries)
    )


def test_doctor_reads_each_extension_library_without_loading_it(tmp_path, test_extensions):
    good = (test_extensions / "libext_b.so").read_bytes()
    foreign = bytearray(good)
    foreign[18:20] = (183).to_bytes(2, "little")  # e_machine: aarch64
    install_fake_extensions(
        tmp_path,
        {
            "noentry": (test_extensions / "libno_entry.so").read_bytes(),
            "textlib": b"this is not a library\n",
            "cutoff": good[:4096],
            "foreign": bytes(foreign),
        },
    )
    out = run([*TVM_EXTEND, "doctor"], env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode == 1, out.stdout + out.stderr
    text = out.stdout
    lib = f"{tmp_path}/{{0}}/lib{{0}}.so"
    assert (
        f"noentry: its library {lib.format('noentry')} cannot be loaded: it has no tvm-extend "
        "entry point (TVMExtendExtensionEntry_v1)"
    ) in text
    assert (
        f"textlib: its library {lib.format('textlib')} cannot be loaded: it is not a loadable "
        "shared library (not an ELF file)"
    ) in text
    assert f"cutoff: its library {lib.format('cutoff')} cannot be loaded: its loadable " in text
    assert "the file has 4096 bytes" in text
    assert f"{lib.format('foreign')} cannot be loaded: it is built for AArch64" in text
    assert "this machine is x86-64" in text
    assert "then reinstall it: pip install --no-build-isolation --force-reinstall" in text
    assert "4 problem(s)" in text
