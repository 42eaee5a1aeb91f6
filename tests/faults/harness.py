"""The fault suite's harness: a case is a bad input, run in its own process, and the process
must survive and report an error that says what went wrong.

Each case runs in a fresh subprocess (a Python snippet run by this interpreter, or a command
line) with a timeout, in a private temporary folder, and gets exactly one verdict:

  clear    the process exited normally with an error whose text matches the case's regex (and,
           for a command line, a non-zero status and no Python traceback)
  unclear  an error was reported, but it does not match, or a command line printed a traceback
  crash    killed by a signal (negative status, or 128+N), or a snippet's process ended without
           reaching the wrapper (an extension called exit(), say)
  hang     still running at the timeout; its whole process group is killed
  silent   exited 0 and reported nothing: the bad input was accepted

A snippet runs inside a wrapper: an exception prints ``FAULT-ERROR: <Type>: <message>`` and
exits 3; finishing without one prints ``FAULT-NO-ERROR`` and exits 0. The regex is searched
(with re.S) in the text from the last FAULT-ERROR marker on.

Setup helpers take the case's temporary folder and return names for the case: a snippet sees
them as string globals (``EXT``, ``TMP``, ...), a command line and its environment as ``{EXT}``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:  # run as a script: conftest.py's build helpers
    sys.path.insert(0, str(TESTS))

GROUPS = ("loader", "call", "tools", "reload", "pipeline", "backend")
VERDICTS = ("clear", "unclear", "crash", "hang", "silent")
TRACEBACK = "Traceback (most recent call last)"

Setup = Callable[[Path], Mapping[str, str]]

WRAPPER = """\
import json, sys
_code, _names = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["-c"]
try:
    exec(compile(_code, "<fault case>", "exec"), {"__name__": "__main__", **_names})
except BaseException as _err:  # SystemExit and KeyboardInterrupt too: all are reports
    sys.stderr.flush()
    print(f"FAULT-ERROR: {type(_err).__name__}: {_err}", flush=True)
    sys.exit(3)
print("FAULT-NO-ERROR", flush=True)
"""


@dataclass(frozen=True)
class Case:
    """One bad input. Give ``snippet`` (Python) or ``argv`` (a command line; ``tvm-extend`` and
    ``python`` name this interpreter's), and ``expect``, a regex the error must match."""

    group: str
    name: str
    expect: str
    snippet: str | None = None
    argv: Sequence[str] | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # added to the environment
    setup: Sequence[Setup] = ()
    timeout: float = 120

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValueError(f"{self.id}: group must be one of {', '.join(GROUPS)}")
        if (self.snippet is None) == (self.argv is None):
            raise ValueError(f"{self.id}: give exactly one of snippet and argv")
        re.compile(self.expect)

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"


@dataclass
class Result:
    case: Case
    verdict: str
    detail: str
    seconds: float
    returncode: int | None
    output: str

    def line(self, width: int = 0) -> str:
        return f"{self.verdict:<8} {self.case.id:<{width}}  {self.seconds:.1f}s"

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


# --- setup helpers --------------------------------------------------------------------------

_build_lock = threading.Lock()
_built: list[Path] = []


def extensions(tmp: Path) -> dict[str, str]:
    """EXT: the folder of the test extensions (tests/extensions), built once per run into
    build/tests/extensions with conftest.py's cmake_build, as the pytest fixture does."""
    with _build_lock:
        if not _built:
            from conftest import BUILD, ROOT, cmake_build

            try:
                cmake_build(ROOT / "tests" / "extensions", BUILD / "extensions")
            except subprocess.CalledProcessError as err:
                raise RuntimeError(f"building the test extensions failed:\n{err.stderr}") from None
            _built.append(BUILD / "extensions")
    return {"EXT": str(_built[0])}


def write_file(name: str, content: str | bytes, var: str = "FILE") -> Setup:
    """A setup writing ``content`` to ``TMP/name``; its path is ``var``."""

    def setup(tmp: Path) -> dict[str, str]:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
        return {var: str(path)}

    return setup


# --- running --------------------------------------------------------------------------------


def _substitute(text: str, names: Mapping[str, str]) -> str:
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def command_of(case: Case, names: Mapping[str, str]) -> list[str]:
    if case.snippet is not None:
        snippet = textwrap.dedent(case.snippet)
        return [sys.executable, "-c", WRAPPER, snippet, json.dumps(dict(names))]
    argv = [_substitute(a, names) for a in case.argv or ()]
    script = Path(sys.executable).parent / "tvm-extend"
    if argv and argv[0] == "tvm-extend":
        head = [str(script)] if script.exists() else [sys.executable, "-m", "tvm_extend"]
        argv = head + argv[1:]
    elif argv and argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    return argv


def classify(case: Case, returncode: int | None, output: str) -> tuple[str, str]:
    """(verdict, why) for a finished case; ``returncode`` None means it timed out."""
    if returncode is None:
        return "hang", f"still running after {case.timeout:g} s"
    if returncode < 0 or returncode >= 128:
        signum = -returncode if returncode < 0 else returncode - 128
        try:
            how = signal.Signals(signum).name
        except ValueError:
            how = f"signal {signum}"
        return "crash", f"killed by {how} (exit status {returncode})"
    if case.snippet is not None:
        if returncode == 0:
            return "silent", "finished without an error: the bad input was accepted"
        at = output.rfind("FAULT-ERROR: ")
        if returncode != 3 or at < 0:
            return "crash", f"exited {returncode} without reaching the fault wrapper"
        error = output[at + len("FAULT-ERROR: ") :].strip()
    else:
        if returncode == 0:
            return "silent", "exited 0: the bad input was accepted"
        if TRACEBACK in output:
            return "unclear", f"exited {returncode} with a Python traceback"
        error = output.strip()
    if re.search(case.expect, error, re.S):
        return "clear", error.splitlines()[0] if error else ""
    first = error.splitlines()[0] if error else "(no output)"
    return "unclear", f"the error does not match /{case.expect}/: {first}"


def run_case(case: Case) -> Result:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"fault-{case.group}-{case.name}-") as tmp_name:
        tmp = Path(tmp_name)
        names = {"TMP": str(tmp)}
        try:
            for setup in case.setup:
                names.update(setup(tmp))
        except Exception as err:  # noqa: BLE001  (reported as the case's result)
            detail = f"setup failed: {type(err).__name__}: {err}"
            return Result(case, "unclear", detail, time.perf_counter() - start, None, detail)
        env = {**os.environ, **{k: _substitute(v, names) for k, v in case.env.items()}}
        proc = subprocess.Popen(
            command_of(case, names),
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole on a hang
        )
        try:
            out, _ = proc.communicate(timeout=case.timeout)
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            returncode = None
    output = out.decode("utf-8", "replace")
    verdict, detail = classify(case, returncode, output)
    return Result(case, verdict, detail, time.perf_counter() - start, returncode, output)


def run_cases(
    cases: Iterable[Case], jobs: int = 2, on_result: Callable[[Result], None] | None = None
) -> list[Result]:
    """Run every case (``jobs`` at a time); results in the cases' order."""
    cases = list(cases)
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate case ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    results: dict[str, Result] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_case, c) for c in cases]
        for future in as_completed(futures):
            result = future.result()
            results[result.case.id] = result
            if on_result is not None:
                on_result(result)
    return [results[i] for i in ids]


def summary(results: Sequence[Result]) -> str:
    counts = ", ".join(f"{sum(r.verdict == v for r in results)} {v}" for v in VERDICTS)
    return f"fault suite: {len(results)} cases: {counts}"


def report(results: Sequence[Result]) -> str:
    """Every case that is not clear, with why and the tail of its output."""
    parts = []
    for r in results:
        if r.verdict != "clear":
            parts.append(
                f"{r.verdict} {r.case.id}: {r.detail}\n    " + r.tail().replace("\n", "\n    ")
            )
    return "\n".join(parts)
