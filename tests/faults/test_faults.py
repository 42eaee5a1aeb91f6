"""The fault suite under pytest: every case runs once per session; the test fails listing each
case that is not clear, with why and the tail of its output. The harness is checked first on
cases whose verdict is known."""

from __future__ import annotations

import pytest
from cases import CASES
from harness import Case, Result, report, run_case, run_cases, summary

# (verdict, how, code): the harness's own check, on cases expecting "ValueError: bad input".
HARNESS_CHECKS = [
    ("clear", "snippet", "raise ValueError('bad input')"),
    ("unclear", "snippet", "raise KeyError('bad input')"),
    ("silent", "snippet", "x = 1"),
    ("crash", "snippet", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"),
    ("crash", "snippet", "import os; os._exit(1)"),  # never reached the wrapper
    # A hang is killed with its children, which would otherwise hold the output pipe open.
    (
        "hang",
        "snippet",
        "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)",
    ),
    ("clear", "argv", "import sys; sys.exit('ValueError: bad input')"),
    ("unclear", "argv", "raise ValueError('bad input')"),  # a command line's traceback
    ("silent", "argv", "print('fine')"),
]


@pytest.mark.parametrize("verdict, how, code", HARNESS_CHECKS)
def test_the_harness_classifies(verdict: str, how: str, code: str) -> None:
    run = {"snippet": code} if how == "snippet" else {"argv": ["python", "-c", code]}
    timeout = 1 if verdict == "hang" else 60
    result = run_case(Case("call", "check", r"ValueError: bad input", timeout=timeout, **run))
    assert result.verdict == verdict, (result.detail, result.output)
    assert result.seconds < 30


@pytest.fixture(scope="session")
def fault_results() -> list[Result]:
    return run_cases(CASES, jobs=2)


def test_every_fault_is_reported_clearly(fault_results: list[Result]) -> None:
    width = max(len(r.case.id) for r in fault_results)
    print("\n" + "\n".join(r.line(width) for r in fault_results))
    print(summary(fault_results))
    bad = [r for r in fault_results if r.verdict != "clear"]
    assert not bad, summary(fault_results) + "\n" + report(fault_results)
