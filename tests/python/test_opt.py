"""`tvm-extend opt`: passes and pipelines over TVMScript files, per-pass printing, diffs,
timing, diagnostics; and the pass explorer page, checked in headless Chromium."""

import html
import shutil
import subprocess
import sys

import pytest
import tvm

TVM_EXTEND = [sys.executable, "-m", "tvm_extend", "opt"]

KERNEL = """\
from tvm.script import tirx as T


@T.prim_func
def kernel(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
    for i in T.unroll(4):
        B[i] = A[i] * 8 + A[i] // 4
"""

PASSES = "tir_passes.transform.UnrollByAnnotation(8),my_custom_pass.transform.MulDivToShift"


def shifted(i: int) -> str:
    """Statement i of the kernel after PASSES, as the running TVM prints it (0.27: `A[i] << 3`,
    0.26: `T.shift_left(A[i], 3)`)."""
    A = tvm.tirx.decl_buffer((16,), "int32", "A")
    return f"B[{i}] = {(A[i] << 3) + (A[i] >> 2)}"


@pytest.fixture()
def kernel(tmp_path):
    path = tmp_path / "kernel.py"
    path.write_text(KERNEL)
    return path


def opt(*args, cwd=None):
    return subprocess.run(
        [*TVM_EXTEND, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def test_runs_passes_and_round_trips(kernel, tmp_path):
    out = tmp_path / "out.py"
    result = opt(kernel, "--passes", PASSES, "-o", out)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert shifted(3) in text and "T.unroll" not in text
    again = opt(out, "--passes", "tirx.transform.StmtSimplify")  # its own output is valid input
    assert again.returncode == 0, again.stderr
    assert shifted(3) in again.stdout


def test_print_after_all_print_after_and_diff(kernel):
    every = opt(kernel, "--passes", PASSES, "--print-after-all")
    assert every.stdout.count("// IR after ") == 2
    one = opt(kernel, "--passes", PASSES, "--print-after", "my_custom_pass.transform.MulDivToShift")
    assert one.stdout.count("// IR after ") == 1
    diff = opt(kernel, "--passes", PASSES, "--diff")
    assert "+++ after my_custom_pass.transform.MulDivToShift" in diff.stdout
    assert "-        B[0] = A[0] * 8 + A[0] // 4" in diff.stdout
    assert f"+        {shifted(0)}" in diff.stdout


def test_timing_and_pipeline(kernel):
    timed = opt(kernel, "--passes", PASSES, "--timing")
    assert "tir_passes.transform.UnrollByAnnotation:" in timed.stdout and "us" in timed.stdout
    lowered = opt(kernel, "--pipeline", "default")
    assert lowered.returncode == 0, lowered.stderr
    assert "T.func_attr" in lowered.stdout and "return 0" in lowered.stdout


@pytest.mark.parametrize(
    "args, status, message",
    [
        (["missing.py", "--passes", "tirx.transform.StmtSimplify"], 2, "no such file"),
        (["KERNEL", "--passes", "no.such.Pass"], 2, "unknown pass 'no.such.Pass'"),
        (
            ["KERNEL", "--passes", "tir_passes.transform.UnrollByAnnotation(x y)"],
            2,
            "arguments must be Python literals",
        ),
        (["KERNEL"], 2, "give exactly one of --passes and --pipeline"),
        (["KERNEL", "--pipeline", "nope"], 2, "--pipeline nope"),
        (["KERNEL", "--load", "/no/libx.so", "--passes", "a"], 2, "--load /no/libx.so"),
    ],
)
def test_bad_command_lines(kernel, args, status, message):
    result = opt(*[kernel if a == "KERNEL" else a for a in args], cwd=kernel.parent)
    assert result.returncode == status and message in result.stderr, result.stderr


def test_bad_tvmscript_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(KERNEL.replace("A[i] // 4", "A[i] // undefined_name"))
    result = opt(bad, "--passes", "tirx.transform.StmtSimplify")
    assert result.returncode == 1
    assert f"{bad}:7:" in result.stderr and "Undefined variable: undefined_name" in result.stderr
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def broken(:\n")
    result = opt(syntax, "--passes", "tirx.transform.StmtSimplify")
    assert result.returncode == 1 and f"{syntax}:1:" in result.stderr


def test_a_failing_pass_is_named(kernel, test_extensions):
    result = opt(
        kernel,
        "--load",
        test_extensions / "libthrowing.so",
        "--passes",
        "throwing.transform.Explode",
    )
    assert result.returncode == 1
    assert "pass throwing.transform.Explode failed" in result.stderr
    assert "cannot handle this loop nest" in result.stderr


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_pass_explorer_in_headless_chromium(kernel, tmp_path):
    assert chromium(), "scripts/test.sh installs Debian's chromium"
    page = tmp_path / "explorer.html"
    result = opt(kernel, "--passes", PASSES, "--html", page)
    assert result.returncode == 0, result.stderr
    text = page.read_text()
    assert "<script src" not in text and "<link" not in text  # self-contained

    def dom(fragment):
        return subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=3000",
                "--dump-dom",
                f"file://{page}{fragment}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    first = dom("")
    assert '<h2 id="heading">tir_passes.transform.UnrollByAnnotation' in first
    assert "1. tir_passes.transform.UnrollByAnnotation" in first
    assert "2. my_custom_pass.transform.MulDivToShift" in first
    # Clicking the second pass (the page clicks the entry named in #select=) shows its IR.
    second = dom("#select=2")
    assert '<h2 id="heading">my_custom_pass.transform.MulDivToShift' in second
    assert html.escape(shifted(0), quote=False) in second
    assert 'class="add"' in second and 'class="del"' in second
    assert " ms</span>" in second  # timings


def one_line_error(result, status):
    assert result.returncode == status, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_output_into_a_missing_folder_is_refused_before_running(kernel, tmp_path):
    out = tmp_path / "no" / "such" / "out.py"
    err = one_line_error(opt(kernel, "--passes", "tirx.transform.StmtSimplify", "-o", out), 2)
    assert f"tvm-extend opt: -o {out}: no such folder {tmp_path}/no/such" in err
    err = one_line_error(opt(kernel, "--passes", "tirx.transform.StmtSimplify", "-o", tmp_path), 2)
    assert f"-o {tmp_path}: is a directory; give a file name" in err
    page = tmp_path / "gone" / "x.html"
    err = one_line_error(opt(kernel, "--passes", "tirx.transform.StmtSimplify", "--html", page), 2)
    assert f"--html {page}: no such folder {tmp_path}/gone" in err


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "ir.IRModule",
            "pass 'ir.IRModule': calling ir.IRModule() failed, so it is not a pass factory "
            "(TypeError: Mismatched number of arguments",
        ),
        ("runtime.RuntimeEnabled('llvm')", "'runtime.RuntimeEnabled' returned bool, not a pass"),
    ],
)
def test_a_global_function_that_is_not_a_pass(kernel, spec, message):
    assert message in one_line_error(opt(kernel, "--passes", spec), 2)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(56), "binary content, a NUL byte at offset 7"),
        (b"x = '\xff\xfe'\n", "not text in its encoding: invalid or missing encoding"),
    ],
)
def test_binary_input_is_named(tmp_path, content, message):
    path = tmp_path / "input.py"
    path.write_bytes(content)
    err = one_line_error(opt(path, "--passes", "tirx.transform.StmtSimplify"), 1)
    assert f"tvm-extend opt: {path}: not a Python source file ({message}" in err
    assert "None:None" not in err


def test_a_directory_as_input(tmp_path):
    err = one_line_error(opt(tmp_path, "--passes", "tirx.transform.StmtSimplify"), 2)
    assert f"{tmp_path}: is a directory, not a Python file" in err
