"""Shared fixtures: the test extensions, built once per session against the installed kit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "tests"


def cmake_dir() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "tvm_extend", "--cmake-dir"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def cmake_build(source: Path, build: Path, *extra: str) -> subprocess.CompletedProcess:
    """Configure and build a CMake project against the installed tvm_extend package."""
    configure = [
        "cmake",
        "-S",
        str(source),
        "-B",
        str(build),
        f"-Dtvm_extend_DIR={cmake_dir()}",
        f"-DPython_EXECUTABLE={sys.executable}",
        "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror",
        *extra,
    ]
    subprocess.run(configure, check=True, capture_output=True, text=True)
    return subprocess.run(
        ["cmake", "--build", str(build), "--parallel", "2"],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def test_extensions() -> Path:
    """Folder holding lib<name>.so of every test extension in tests/extensions."""
    build = BUILD / "extensions"
    try:
        cmake_build(ROOT / "tests" / "extensions", build)
    except subprocess.CalledProcessError as err:
        pytest.fail(f"building the test extensions failed:\n{err.stdout}\n{err.stderr}")
    return build


def run_python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a Python snippet in a fresh interpreter (for import order and process state)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=300,
    )
