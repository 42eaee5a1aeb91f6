"""Two independent projects (examples/project_a, examples/project_b), installed side by side
with the unmodified TVM, load in either order and work in the same tvm.compile."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("project_a")
pytest.importorskip("project_b")


def run_example(order: str) -> list[str]:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "two_projects.py"),
            "--order",
            order,
            "--size",
            "96",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Timings vary; everything else must not.
    return [re.sub(r"[0-9.]+ (s|GFLOP/s)$", "<t>", line) for line in result.stdout.splitlines()]


def test_both_projects_work_in_one_compile_in_either_import_order():
    first, second = run_example("a,b"), run_example("b,a")
    assert first == second
    text = "\n".join(first)
    assert "epilogue (project_b's backend, ext_dev): matches numpy" in text
    assert "epilogue_kernel C: 9216 loads, 0 stores" in text
    assert "epilogue_kernel D: 0 loads, 9216 stores" in text
    assert text.index("project_a.transform.AutoSchedule (project_a)") < text.index(
        "project_b.transform.LowerOps (project_b)"
    )
