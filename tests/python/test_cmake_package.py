"""The tvm_extend CMake package: the pip default, TVM_PREBUILD_PATH and TVM_SOURCE_DIR, the
latter two on synthetic folder layouts; and the built library's run path and stamp."""

import subprocess
import sys
from pathlib import Path

import pytest
import tvm
import tvm_ffi

from conftest import ROOT, cmake_dir


def probe(tmp_path, *defs):
    build = tmp_path / "probe-build"
    result = subprocess.run(
        [
            "cmake",
            "-S",
            str(ROOT / "tests" / "cmake" / "probe"),
            "-B",
            str(build),
            f"-Dtvm_extend_DIR={cmake_dir()}",
            f"-DPython_EXECUTABLE={sys.executable}",
            *defs,
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return None, result.stdout + result.stderr
    text = (build / "probe.txt").read_text()
    return dict(line.split("=", 1) for line in text.splitlines()), result.stdout


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fake_tvm_tree(root: Path, version: str, libname: str = "libtvm.so") -> Path:
    """A TVM source checkout with a build folder, as the seed's TVM_PREBUILD_PATH expects."""
    build = root / "build"
    for lib in (libname, "libtvm_runtime.so", "lib/libtvm_ffi.so"):
        touch(build / lib)
    touch(root / "include" / "tvm" / "ir" / "expr.h", "// fake\n")
    touch(root / "3rdparty" / "tvm-ffi" / "include" / "tvm" / "ffi" / "c_api.h", "// fake\n")
    touch(root / "3rdparty" / "tvm-ffi" / "3rdparty" / "dlpack" / "include" / "dlpack" / "dlpack.h")
    touch(root / "python" / "tvm" / "_version.py", f'__version__ = version = "{version}"\n')
    touch(
        root / "3rdparty" / "tvm-ffi" / "python" / "tvm_ffi" / "_version.py",
        '__version__ = version = "0.1.9"\n',
    )
    return build


def test_pip_default(tmp_path):
    found, log = probe(tmp_path)
    assert found is not None, log
    assert found["mode"] == "pip"
    assert found["tvm_version"] == tvm.__version__
    assert found["ffi_version"] == tvm_ffi.__version__
    assert found["tvm"] == str(Path(tvm.__file__).parent / "lib" / "libtvm_compiler.so")
    assert found["ffi"].endswith("tvm_ffi/lib/libtvm_ffi.so")
    assert found["source_includes"] == ""


def test_prebuild_path_on_a_synthetic_layout(tmp_path):
    build = fake_tvm_tree(tmp_path / "tvm", "0.25.0")
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={build}")
    assert found is not None, log
    assert found["mode"] == "prebuild"
    assert found["tvm_version"] == "0.25.0" and found["ffi_version"] == "0.1.9"
    assert found["tvm"] == str(build / "libtvm.so")
    assert found["runtime"] == str(build / "libtvm_runtime.so")
    assert found["ffi"] == str(build / "lib" / "libtvm_ffi.so")
    assert str(tmp_path / "tvm" / "3rdparty" / "tvm-ffi" / "include") in found["ffi_include"]


def test_prebuild_path_prefers_the_split_compiler_library(tmp_path):
    build = fake_tvm_tree(tmp_path / "tvm", "0.27.0", libname="libtvm_compiler.so")
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={build}")
    assert found is not None, log
    assert found["tvm"] == str(build / "libtvm_compiler.so")


def test_prebuild_path_that_is_not_a_build_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={tmp_path / 'empty'}")
    assert found is None
    assert "is not a usable TVM build folder" in log and "libtvm_runtime.so" in log


def test_source_dir_adds_tvm_headers(tmp_path):
    src = tmp_path / "tvm-src"
    fake_tvm_tree(src, tvm.__version__)
    touch(src / "src" / "tirx" / "transform.h")
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}")
    assert found is not None, log
    assert found["mode"] == "pip"
    includes = found["source_includes"].split(";")
    assert str(src / "include") in includes and str(src / "src") in includes
    assert str(src / "include") in found["headers"].split(";")


def test_source_dir_of_another_release_is_refused(tmp_path):
    src = tmp_path / "tvm-src"
    fake_tvm_tree(src, "0.19.0")
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}")
    assert found is None
    assert "TVM_SOURCE_DIR holds TVM 0.19.0" in log and tvm.__version__ in log


def test_source_dir_without_headers(tmp_path):
    (tmp_path / "nothing").mkdir()
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={tmp_path / 'nothing'}")
    assert found is None and "has no include/tvm" in log


def test_built_library_run_path_and_stamp(test_extensions):
    library = test_extensions / "libext_b.so"
    dynamic = subprocess.run(
        ["readelf", "-d", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert "libtvm_ffi.so" in dynamic
    assert str(Path(tvm_ffi.__file__).parent / "lib") in dynamic
    assert "$ORIGIN/../tvm_ffi/lib" in dynamic
    # Loads in a clean process with no LD_LIBRARY_PATH, and records the versions.
    code = (
        "import tvm_extend, sys; e = tvm_extend.load_extension(sys.argv[1]); "
        "print(e.built_tvm_version, e.built_ffi_package_version)"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(library)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [tvm.__version__, tvm_ffi.__version__]
    symbols = subprocess.run(
        ["nm", "-D", "--defined-only", str(library)], capture_output=True, text=True, check=True
    ).stdout
    exported = [line.split()[-1] for line in symbols.splitlines() if " T " in line]
    assert exported == ["TVMExtendExtensionEntry_v1"]


@pytest.mark.parametrize("example", ["my_custom_pass", "tir_passes"])
def test_example_builds_out_of_tree_from_a_clean_folder(tmp_path, example):
    source = tmp_path / "src"
    import shutil

    shutil.copytree(
        ROOT / "examples" / example, source, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    build = tmp_path / "build"
    subprocess.run(
        [
            "cmake",
            "-S",
            str(source),
            "-B",
            str(build),
            f"-DPython_EXECUTABLE={sys.executable}",
            "-DCMAKE_BUILD_TYPE=Release",
            "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    subprocess.run(
        ["cmake", "--build", str(build), "--parallel", "2"],
        check=True,
        capture_output=True,
        text=True,
    )
    library = build / f"lib{example}.so"
    assert library.is_file()
    # The fresh build is a working extension: load it in a process without the installed one.
    probe = {
        "my_custom_pass": 'print(ext["rewrite_expr"](tvm.tirx.Var("x", "int32") * 16))',
        "tir_passes": 'print(ext["transform.UnrollByAnnotation"](4).info.name)',
    }[example]
    code = f"""
import sys, tvm, tvm_extend
ext = tvm_extend.load_extension({str(library)!r})
{probe}
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TVM_EXTEND_NO_AUTOLOAD": "1"},
    )
    assert out.returncode == 0, out.stderr
    expected = {"my_custom_pass": "x << 4", "tir_passes": "tir_passes.transform.UnrollByAnnotation"}
    assert out.stdout.strip() == expected[example]
