"""Builds the GoogleTest binary (tests/cpp) against the installed kit and runs it."""

import os
import subprocess

from conftest import BUILD, ROOT, cmake_build


def test_googletest_suite(test_extensions):
    build = BUILD / "cpp"
    try:
        cmake_build(ROOT / "tests" / "cpp", build)
    except subprocess.CalledProcessError as err:
        raise AssertionError(f"building tests/cpp failed:\n{err.stdout}\n{err.stderr}") from None
    env = dict(os.environ, TVM_EXTEND_TEST_EXTENSIONS=str(test_extensions))
    result = subprocess.run(
        [str(build / "tvm_extend_cpp_tests")], capture_output=True, text=True, env=env, timeout=300
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[  PASSED  ]" in result.stdout
