"""Run the fault suite: ``python tests/faults/run.py [-k SUBSTR] [-j N]``.

Prints a line per case as it finishes, the summary line, and what went wrong with every case
that is not clear; exits 1 unless every case is clear (2 when -k selects none).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES  # noqa: E402
from harness import Result, report, run_cases, summary  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", metavar="SUBSTR", default="", help="only cases whose id has it")
    parser.add_argument("-j", metavar="N", type=int, default=2, help="cases run at once (2)")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if args.k in c.id]
    if not cases:
        print(f"fault suite: no case matches -k {args.k!r}", file=sys.stderr)
        return 2
    width = max(len(c.id) for c in cases)
    lock = threading.Lock()

    def show(result: Result) -> None:
        with lock:
            print(result.line(width), flush=True)

    results = run_cases(cases, jobs=args.j, on_result=show)
    print(summary(results))
    problems = report(results)
    if problems:
        print("\n" + problems)
    return 0 if all(r.verdict == "clear" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
