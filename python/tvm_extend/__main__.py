"""``python -m tvm_extend --cmake-dir | --include-dir | --version | --tvm-version``."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tvm-extend", description="Extend Apache TVM out of tree."
    )
    parser.add_argument("--cmake-dir", action="store_true", help="folder of the CMake package")
    parser.add_argument("--include-dir", action="store_true", help="folder of the C++ headers")
    parser.add_argument("--version", action="store_true", help="tvm-extend's version")
    parser.add_argument("--tvm-version", action="store_true", help="the installed TVM's version")
    args = parser.parse_args(argv)
    pkg = os.path.dirname(os.path.abspath(__file__))
    if args.cmake_dir:
        print(os.path.join(pkg, "share", "cmake", "tvm_extend"))
    elif args.include_dir:
        print(os.path.join(pkg, "include"))
    elif args.version:
        from . import __version__

        print(__version__)
    elif args.tvm_version:
        import tvm

        print(tvm.__version__)
    else:
        parser.print_help()
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
