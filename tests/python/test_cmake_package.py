"""The tvm_extend CMake package, found as users find it (CMAKE_PREFIX_PATH=<site-packages>):
the pip default; TVM_PREBUILD_PATH on the real installed wheel (its tvm folder and its lib/) and
on a synthetic TVM build folder; TVM_SOURCE_DIR with the tree's version read from libinfo.py,
base.h or git; the Python the package finds for itself; every error it reports; the built
library's run path and stamp; and the four-line CMakeLists of every example and the scaffold."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tvm
import tvm_ffi

from conftest import ROOT, fake_site, fake_tvm_tree, fake_wheel_tvm, site_packages, touch

PROBE = ROOT / "tests" / "cmake" / "probe"
RELEASE = ".".join(tvm.__version__.split(".")[:3])  # 0.27.0 of 0.27.0.post1
EXAMPLES = ["my_custom_pass", "project_a", "project_b", "project_llm", "tir_passes"]


def configure(source: Path, build: Path, *defs: str, prefix: Path | None = None, env=None):
    """Runs `cmake -S source -B build -DCMAKE_PREFIX_PATH=<prefix> defs...`, as a user would."""
    return subprocess.run(
        [
            "cmake",
            "-S",
            str(source),
            "-B",
            str(build),
            f"-DCMAKE_PREFIX_PATH={prefix or site_packages()}",
            *defs,
        ],
        capture_output=True,
        text=True,
        env=env,
    )


def probe(tmp_path, *defs, **kwargs):
    """(what the package resolved, the log), or (None, the log) when configuring failed."""
    build = tmp_path / "probe-build"
    result = configure(PROBE, build, *defs, **kwargs)
    log = result.stdout + result.stderr
    if result.returncode != 0:
        return None, log
    text = (build / "probe.txt").read_text()
    return dict(line.split("=", 1) for line in text.splitlines()), log


def one_line(log: str) -> str:
    """CMake wraps long messages; the text with its line breaks and indentation folded."""
    return re.sub(r"\s*\n\s*", " ", log)


def test_pip_default(tmp_path):
    found, log = probe(tmp_path)
    assert found is not None, log
    assert found["mode"] == "pip"
    assert found["tvm_version"] == tvm.__version__
    assert found["ffi_version"] == tvm_ffi.__version__
    assert found["tvm"] == str(Path(tvm.__file__).parent / "lib" / "libtvm_compiler.so")
    assert found["ffi"].endswith("tvm_ffi/lib/libtvm_ffi.so")
    assert found["source_includes"] == ""


# --- TVM_PREBUILD_PATH: the installed wheel ----------------------------------------------------


@pytest.mark.parametrize("given", ["tvm", "tvm/lib"])
def test_prebuild_path_is_the_installed_wheel(tmp_path, given):
    site = site_packages()
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={site / given}")
    assert found is not None, log
    assert found["mode"] == "prebuild"
    assert found["tvm_version"] == tvm.__version__
    assert found["ffi_version"] == tvm_ffi.__version__
    assert found["tvm"] == str(site / "tvm" / "lib" / "libtvm_compiler.so")
    assert found["runtime"] == str(site / "tvm" / "lib" / "libtvm_runtime.so")
    assert found["ffi"] == str(site / "tvm_ffi" / "lib" / "libtvm_ffi.so")
    assert str(site / "tvm_ffi" / "include") in found["ffi_include"].split(";")


def test_prebuild_path_on_the_wheel_builds_a_loadable_extension(tmp_path):
    site = site_packages()
    build = tmp_path / "probe-build"
    result = configure(
        PROBE,
        build,
        f"-DTVM_PREBUILD_PATH={site / 'tvm'}",
        "-DPROBE_EXTENSION=SOURCES;probe_ext.cc",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    code = (
        "import sys, tvm_extend; e = tvm_extend.load_extension(sys.argv[1]); "
        "print(e['twice'](21), e.built_tvm_version)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(build / "libprobe_ext.so")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TVM_EXTEND_NO_AUTOLOAD": "1"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["42", tvm.__version__]


def test_prebuild_path_on_a_wheel_without_tvm_ffi_beside_it(tmp_path):
    tvm_dir = fake_wheel_tvm(tmp_path / "site", "0.27.0", ffi=False)
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={tvm_dir / 'lib'}")
    assert found is None
    assert (
        f"TVM_PREBUILD_PATH={tvm_dir / 'lib'} is a pip-installed TVM, but tvm-ffi is not "
        f"installed beside it: expected {tmp_path / 'site' / 'tvm_ffi' / 'lib' / 'libtvm_ffi.so'}"
    ) in one_line(log)


def test_prebuild_path_on_a_wheel_without_its_runtime(tmp_path):
    tvm_dir = fake_wheel_tvm(tmp_path / "site", "0.27.0")
    (tvm_dir / "lib" / "libtvm_runtime.so").unlink()
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={tvm_dir}")
    assert found is None
    assert f"the installed TVM at {tvm_dir} lacks {tvm_dir}/lib/libtvm_runtime.so" in one_line(log)


# --- TVM_PREBUILD_PATH: a TVM build folder -----------------------------------------------------


def test_prebuild_path_on_a_synthetic_build_folder(tmp_path):
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


def test_prebuild_path_outside_its_tree_finds_the_tree_in_its_cache(tmp_path):
    tree = tmp_path / "tvm"
    inside = fake_tvm_tree(tree, "0.26.0", version_in="base.h")
    build = tmp_path / "elsewhere"
    shutil.move(inside, build)
    touch(build / "CMakeCache.txt", f"CMAKE_HOME_DIRECTORY:INTERNAL={tree}\n")
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={build}")
    assert found is not None, log
    assert found["tvm_version"] == "0.26.0"
    assert str(tree / "3rdparty" / "tvm-ffi" / "include") in found["ffi_include"]


def test_prebuild_path_that_is_not_a_tvm(tmp_path):
    (tmp_path / "empty").mkdir()
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={tmp_path / 'empty'}")
    assert found is None
    assert (
        f"TVM_PREBUILD_PATH={tmp_path / 'empty'} is neither a TVM build folder nor a "
        "pip-installed TVM: it holds no libtvm_compiler.so or libtvm.so"
    ) in one_line(log)
    assert "<site-packages>/tvm" in log


def test_prebuild_path_of_an_incomplete_build(tmp_path):
    build = fake_tvm_tree(tmp_path / "tvm", "0.27.0")
    (build / "libtvm_runtime.so").unlink()
    (build / "lib" / "libtvm_ffi.so").unlink()
    shutil.rmtree(tmp_path / "tvm" / "3rdparty" / "tvm-ffi" / "include")
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={build}")
    assert found is None
    text = one_line(log)
    assert f"holds {build / 'libtvm.so'} but not the rest of a TVM build" in text
    for missing in ("libtvm_runtime.so (in", "libtvm_ffi.so (in", "tvm-ffi's headers ("):
        assert missing in text
    assert "DLPack" not in text  # only what is missing


def test_prebuild_path_without_a_version(tmp_path):
    build = fake_tvm_tree(tmp_path / "tvm", None)
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={build}")
    assert found is None
    assert f"cannot tell the TVM version of the build folder {build}" in one_line(log)
    assert "-DTVM_VERSION=" in log
    found, log = probe(tmp_path, f"-DTVM_PREBUILD_PATH={build}", "-DTVM_VERSION=0.27.0")
    assert found is not None and found["tvm_version"] == "0.27.0", log


# --- TVM_SOURCE_DIR ------------------------------------------------------------------------------


@pytest.mark.parametrize("version_in", ["libinfo.py", "base.h", "git"])
def test_source_dir_of_the_running_release_adds_tvm_headers(tmp_path, version_in):
    src = tmp_path / "tvm-src"
    fake_tvm_tree(src, RELEASE, version_in=version_in)
    touch(src / "src" / "tirx" / "transform.h")
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}")
    assert found is not None, log
    assert found["mode"] == "pip"
    includes = found["source_includes"].split(";")
    assert str(src / "include") in includes and str(src / "src") in includes
    assert str(src / "include") in found["headers"].split(";")


@pytest.mark.parametrize(
    "version_in, shown",
    [("libinfo.py", "0.19.0"), ("base.h", "0.19.0"), ("git", "v0.19.0")],
)
def test_source_dir_of_another_release_is_refused(tmp_path, version_in, shown):
    src = tmp_path / "tvm-src"
    fake_tvm_tree(src, "0.19.0", version_in=version_in)
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}")
    assert found is None
    where = {
        "libinfo.py": "python/tvm/libinfo.py",
        "base.h": "include/tvm/runtime/base.h",
        "git": "git describe",
    }[version_in]
    assert (
        f"TVM_SOURCE_DIR={src} holds TVM {shown} ({where}), but the TVM it links is "
        f"{tvm.__version__}"
    ) in one_line(log)
    assert f"Check out v{RELEASE} there" in one_line(log)


def test_source_dir_a_dev_version_of_the_next_release_is_refused(tmp_path):
    src = tmp_path / "tvm-src"
    major, minor = RELEASE.split(".")[:2]
    fake_tvm_tree(src, f"{major}.{int(minor) + 1}.dev0")
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}")
    assert found is None and f"holds TVM {major}.{int(minor) + 1}.dev0" in log


def test_source_dir_without_a_version(tmp_path):
    src = tmp_path / "tvm-src"
    fake_tvm_tree(src, None)
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}")
    assert found is None
    text = one_line(log)
    assert f"cannot tell which TVM release TVM_SOURCE_DIR={src} holds" in text
    assert f"The TVM it links is {tvm.__version__}" in text
    assert "TVM_EXTEND_ALLOW_SOURCE_MISMATCH=ON" in text
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={src}", "-DTVM_EXTEND_ALLOW_SOURCE_MISMATCH=ON")
    assert found is not None and str(src / "include") in found["source_includes"], log


def test_source_dir_without_headers(tmp_path):
    (tmp_path / "nothing").mkdir()
    found, log = probe(tmp_path, f"-DTVM_SOURCE_DIR={tmp_path / 'nothing'}")
    assert found is None
    assert f"TVM_SOURCE_DIR={tmp_path / 'nothing'} has no include/tvm" in one_line(log)


# --- the package's own place: its Python, its TVM, its headers ---------------------------------


def test_package_without_a_python_that_sees_it(tmp_path):
    """A copy of the package in a prefix with no bin/python, and only a system Python on PATH:
    the views need the package's Python, and no other is taken."""
    site = fake_site(tmp_path / "prefix")
    found, log = probe(
        tmp_path, "-DPROBE_EXTENSION=SOURCES;probe_ext.cc", prefix=site, env=plain_env(tmp_path)
    )
    assert found is None
    assert (
        f"cannot find the Python that tvm-extend at {site / 'tvm_extend'} is installed for: "
        f"neither {tmp_path / 'prefix'}/bin/python{sys.version_info[0]}.{sys.version_info[1]}"
    ) in one_line(log)
    assert "-DPython_EXECUTABLE=" in log


def test_a_given_python_wins_and_its_failure_is_named(tmp_path):
    no_site = without_site_packages(tmp_path)
    found, log = probe(
        tmp_path, f"-DPython_EXECUTABLE={no_site}", "-DPROBE_EXTENSION=SOURCES;probe_ext.cc"
    )
    assert found is None
    assert f"generating the IR views with {no_site} failed" in one_line(log)
    # CMake wraps the message at a width, so where the line breaks depends on the path's length.
    assert "No module named 'tvm_extend'" in one_line(log), log


def test_tvm_installed_apart_from_the_package(tmp_path):
    site = fake_site(tmp_path / "prefix", tvm=False)
    found, log = probe(tmp_path, f"-DPython_EXECUTABLE={sys.executable}", prefix=site)
    assert found is not None, log
    assert found["tvm"] == str(Path(tvm.__file__).parent / "lib" / "libtvm_compiler.so")
    no_site = without_site_packages(tmp_path)
    found, log = probe(tmp_path, f"-DPython_EXECUTABLE={no_site}", prefix=site)
    assert found is None
    assert f"no pip-installed TVM found by {no_site} (pip install apache-tvm)" in one_line(log)


def test_package_without_headers(tmp_path):
    site = fake_site(tmp_path / "prefix", headers=False)
    found, log = probe(tmp_path, prefix=site)
    assert found is None
    assert f"the package at {site / 'tvm_extend'} has no headers" in one_line(log)


@pytest.mark.parametrize(
    "arguments, error",
    [
        ("LINK_TVM", "tvm_extend_add_extension(probe_ext): give SOURCES"),
        (
            "SHARED;SOURCES;probe_ext.cc",
            "tvm_extend_add_extension(probe_ext): unknown arguments SHARED",
        ),
    ],
)
def test_add_extension_arguments(tmp_path, arguments, error):
    found, log = probe(tmp_path, f"-DPROBE_EXTENSION={arguments}")
    assert found is None and error in one_line(log)


def plain_env(tmp_path: Path) -> dict:
    """An environment where this venv is not activated: no VIRTUAL_ENV or PYTHONPATH, its bin/
    off PATH, and another Python (the venv's base interpreter) first on PATH as python3."""
    decoy = tmp_path / "decoy-bin"
    decoy.mkdir(exist_ok=True)
    for name in ("python3", "python"):
        if not (decoy / name).exists():
            (decoy / name).symlink_to(os.path.realpath(sys._base_executable))
    venv_bin = os.path.abspath(os.path.dirname(sys.executable))
    path = [p for p in os.environ["PATH"].split(":") if p and os.path.abspath(p) != venv_bin]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = ":".join([str(decoy), *path])
    return env


def without_site_packages(tmp_path: Path) -> Path:
    """A Python that sees no site-packages (this interpreter with -S)."""
    script = touch(tmp_path / "python-S", f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    script.chmod(0o755)
    return script


# --- the built library ---------------------------------------------------------------------------


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


# --- the examples: four lines, built with plain cmake outside the venv ------------------------


FOUR_LINES_AND_INSTALL = [
    "cmake_minimum_required",
    "project",
    "find_package",
    "tvm_extend_add_extension",
    "install",
]


def cmakelists_of(where: str) -> str:
    if where == "scaffold":
        from tvm_extend.scaffold import CMAKE

        return CMAKE.format(name="myext", sources="src/extension.cc src/myext_pass.cc")
    if where == "README":
        readme = (ROOT / "README.md").read_text()
        return re.search(r"```cmake\n# CMakeLists.txt.*?\n(.*?)```", readme, re.S).group(1)
    return (ROOT / "examples" / where / "CMakeLists.txt").read_text()


@pytest.mark.parametrize("where", [*EXAMPLES, "scaffold", "README"])
def test_cmakelists_is_four_lines_and_install(where):
    lines = [re.sub(r"#.*", "", line).strip() for line in cmakelists_of(where).splitlines()]
    lines = [line for line in lines if line]  # without blank lines and comments
    assert [line.split("(")[0] for line in lines] == FOUR_LINES_AND_INSTALL, lines
    assert all(line.endswith(")") and line.count("(") == line.count(")") for line in lines)
    assert lines[2] == "find_package(tvm_extend CONFIG REQUIRED)"
    assert re.match(r"install\(TARGETS (\w+) LIBRARY DESTINATION \1\)", lines[4]), lines[4]


@pytest.mark.parametrize("example", ["my_custom_pass", "tir_passes"])
def test_example_builds_with_plain_cmake_outside_the_venv(tmp_path, example):
    """`cmake -S . -B b -DCMAKE_PREFIX_PATH=<site-packages>` with the venv not activated and
    another python3 first on PATH: the package finds the venv's Python by itself."""
    source = tmp_path / "src"
    shutil.copytree(
        ROOT / "examples" / example, source, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    build = tmp_path / "build"
    env = plain_env(tmp_path)
    result = configure(
        source,
        build,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"tvm_extend: Python {sys.prefix}/bin/python" in result.stdout
    built = subprocess.run(
        ["cmake", "--build", str(build), "--parallel", "2"], capture_output=True, text=True, env=env
    )
    assert built.returncode == 0, built.stdout + built.stderr
    library = build / f"lib{example}.so"
    assert library.is_file()
    # The fresh build is a working extension: load it in a process without the installed one.
    probe_code = {
        "my_custom_pass": (
            'x = tvm.tirx.Var("x", "int32")\n'
            'print(tvm_ffi.structural_equal(ext["rewrite_expr"](x * 16), x << 4))'
        ),
        "tir_passes": 'print(ext["transform.UnrollByAnnotation"](4).info.name)',
    }[example]
    code = f"""
import sys, tvm, tvm_ffi, tvm_extend
ext = tvm_extend.load_extension({str(library)!r})
{probe_code}
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TVM_EXTEND_NO_AUTOLOAD": "1"},
    )
    assert out.returncode == 0, out.stderr
    expected = {"my_custom_pass": "True", "tir_passes": "tir_passes.transform.UnrollByAnnotation"}
    assert out.stdout.strip() == expected[example]
