"""Helpers for the benchmarks: run in fresh processes, report medians."""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap


def fresh_python(code: str, env: dict | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return out.stdout


def summary(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples):.2f}, min {min(samples):.2f}, "
        f"max {max(samples):.2f} (n={len(samples)})"
    )
