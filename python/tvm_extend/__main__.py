"""The ``tvm-extend`` command (also ``python -m tvm_extend``).

    tvm-extend --cmake-dir | --include-dir | --version | --tvm-version
    tvm-extend new NAME [--dir DIR] [--with pass,function,op,backend]
    tvm-extend doctor [--compat LIB_OR_PACKAGE | --uses USED_ITEMS.json]
    tvm-extend opt FILE.py [--load EXT] (--passes A,B | --pipeline NAME) [--print-after-all]
                   [--print-after PASS] [--diff] [--timing] [--html OUT.html] [-o OUT]

Paths and versions answer without importing TVM, so CMake can ask for them quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _installed_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return ""


def cmd_new(args) -> int:
    from . import scaffold

    tvm_version = _installed_version("apache-tvm")
    if not tvm_version:
        print(
            "tvm-extend new: apache-tvm is not installed here (pip install apache-tvm)",
            file=sys.stderr,
        )
        return 1
    dest = Path(args.dir or args.name)
    try:
        kinds = scaffold.parse_with(args.with_)
        written = scaffold.new_project(args.name, dest, kinds, tvm_version)
    except (ValueError, FileExistsError) as err:
        print(f"tvm-extend new: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a folder that cannot be written, a path too long, ...
        print(
            f"tvm-extend new: cannot write {err.filename or dest}: {err.strerror}", file=sys.stderr
        )
        return 2
    print(f"wrote {len(written)} files into {dest}/:")
    for path in written:
        print(f"  {path.relative_to(dest)}")
    print(f"next: cd {dest} && pip install --no-build-isolation . && python -m pytest tests")
    return 0


def cmd_doctor(args) -> int:
    from . import doctor

    if args.compat is not None or args.uses is not None:
        return doctor.run_compat(sys.stdout, target=args.compat, uses_file=args.uses)
    return doctor.run(sys.stdout)


def cmd_opt(args) -> int:
    from . import opt

    return opt.main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tvm-extend", description="Extend Apache TVM out of tree."
    )
    parser.add_argument("--cmake-dir", action="store_true", help="folder of the CMake package")
    parser.add_argument("--include-dir", action="store_true", help="folder of the C++ headers")
    parser.add_argument("--version", action="store_true", help="tvm-extend's version")
    parser.add_argument("--tvm-version", action="store_true", help="the installed TVM's version")
    sub = parser.add_subparsers(dest="command")
    new = sub.add_parser("new", help="write a ready extension project")
    new.add_argument("name", help="the extension's name (a Python identifier)")
    new.add_argument("--dir", help="where to write it (default: ./NAME)")
    new.add_argument(
        "--with",
        dest="with_",
        default="pass,function",
        help="what it contains, comma-separated: pass, function, op, backend "
        "(default: pass,function)",
    )
    new.set_defaults(run=cmd_new)
    doc = sub.add_parser("doctor", help="check TVM, tvm-ffi and every installed extension")
    compat = doc.add_mutually_exclusive_group()
    compat.add_argument(
        "--compat",
        metavar="LIB_OR_PACKAGE",
        help="check which supported TVM releases an extension library binds on, from the "
        "shipped schema snapshots (nothing else is checked)",
    )
    compat.add_argument(
        "--uses",
        metavar="FILE",
        help="like --compat, with the extension's used items (JSON) read from FILE",
    )
    doc.set_defaults(run=cmd_doctor)
    from .opt import add_arguments

    opt = sub.add_parser("opt", help="run passes or a pipeline over a TVMScript file")
    add_arguments(opt)
    opt.set_defaults(run=cmd_opt)
    args = parser.parse_args(argv)
    if args.command:
        return args.run(args)
    if args.cmake_dir:
        print(os.path.join(PKG_DIR, "share", "cmake", "tvm_extend"))
    elif args.include_dir:
        print(os.path.join(PKG_DIR, "include"))
    elif args.version:
        from ._version import __version__

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
