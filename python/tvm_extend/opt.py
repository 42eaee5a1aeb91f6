"""``tvm-extend opt``: run passes or a pipeline over a TVMScript file, like LLVM's opt.

    tvm-extend opt kernel.py --load my_ext --passes my_ext.transform.A,tirx.transform.StmtSimplify
    tvm-extend opt kernel.py --pipeline default --print-after-all --timing
    tvm-extend opt kernel.py --passes tir_passes.transform.UnrollByAnnotation(8) --diff -o out.py

The input is a Python file holding TVMScript (an ``@I.ir_module`` class or ``@T.prim_func``
functions); TVM's parser reports bad input with file, line and column. A pass is the name of a
global function that returns a pass, optionally with Python-literal arguments in parentheses.
Exit status: 0 on success, 1 when the input or a pass fails, 2 for bad command-line use.
"""

from __future__ import annotations

import ast
import difflib
import io
import os
import re
import runpy
import sys
import time
import tokenize
from dataclasses import dataclass, field


class OptError(Exception):
    """A problem to report as `tvm-extend opt: <message>` with an exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@dataclass
class PassRecord:
    name: str
    before: str
    after: str
    seconds: float

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class Run:
    input_ir: str
    output_ir: str
    passes: list[PassRecord] = field(default_factory=list)
    timing_report: str = ""


def read_module(path: str):
    """The IRModule in a TVMScript file: its first IRModule, else its PrimFuncs."""
    import tvm

    if os.path.isdir(path):
        raise OptError(f"{path}: is a directory, not a Python file", 2)
    if not os.path.isfile(path):
        raise OptError(f"no such file: {path}", 2)
    check_source(path)
    try:
        namespace = runpy.run_path(path, run_name="__tvm_extend_opt__")
    except SyntaxError as err:
        where = ":".join(str(x) for x in (err.filename or path, err.lineno, err.offset) if x)
        raise OptError(f"{where}: {err.msg}") from None
    except tvm.error.DiagnosticError as err:
        raise OptError(f"{path}: TVMScript error:\n{err}") from None
    except Exception as err:  # noqa: BLE001  (the user's file raised)
        raise OptError(f"{path}: {type(err).__name__}: {err}") from None
    modules = [v for v in namespace.values() if isinstance(v, tvm.IRModule)]
    if modules:
        return modules[0]
    funcs = {k: v for k, v in namespace.items() if isinstance(v, tvm.tirx.PrimFunc)}
    if not funcs:
        raise OptError(f"{path}: no @I.ir_module or @T.prim_func found")
    return tvm.IRModule({name: f.with_attr("global_symbol", name) for name, f in funcs.items()})


def check_source(path: str) -> None:
    """Refuse a file that is not Python source text (a library, an image) before running it."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise OptError(f"{path}: cannot read: {err.strerror}", 2) from None
    why, nul = "", data.find(b"\0")
    if nul >= 0:
        why = f"binary content, a NUL byte at offset {nul}"
    else:
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            data.decode(encoding)
        except (SyntaxError, UnicodeDecodeError, LookupError) as err:
            why = f"not text in its encoding: {err}"
    if why:
        raise OptError(f"{path}: not a Python source file ({why}); give a TVMScript .py file")


def check_output(option: str, path: str | None) -> None:
    """Refuse an output path whose folder is missing before any pass runs."""
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OptError(f"{option} {path}: no such folder {folder}", 2)
    if os.path.isdir(path):
        raise OptError(f"{option} {path}: is a directory; give a file name", 2)


_CALL = re.compile(r"^\s*([\w.]+)\s*(?:\((.*)\))?\s*$", re.S)


def split_passes(spec: str) -> list[str]:
    """Split `a,b(1, 2),c` at the commas outside parentheses."""
    out, depth, current = [], 0, ""
    for ch in spec:
        if ch == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    out.append(current)
    return [p.strip() for p in out if p.strip()]


def make_pass(spec: str):
    import tvm
    import tvm_ffi

    m = _CALL.match(spec)
    if not m:
        raise OptError(f"cannot read pass '{spec}': write NAME or NAME(args)", 2)
    name, arg_text = m.group(1), m.group(2)
    try:
        args = ast.literal_eval(f"({arg_text},)") if arg_text else ()
    except (ValueError, SyntaxError):
        raise OptError(
            f"pass '{name}': arguments must be Python literals: ({arg_text})", 2
        ) from None
    func = tvm_ffi.get_global_func(name, allow_missing=True)
    if func is None:
        raise OptError(
            f"unknown pass '{name}': no such global function (is its extension loaded? use --load)",
            2,
        )
    try:
        made = func(*args)
    except Exception as err:  # noqa: BLE001  (a global function that is no pass factory)
        call = f"{name}({arg_text or ''})"
        first = (str(err).strip().splitlines() or [""])[0]
        raise OptError(
            f"pass '{name}': calling {call} failed, so it is not a pass factory "
            f"({type(err).__name__}: {first})",
            2,
        ) from None
    if not isinstance(made, tvm.transform.Pass):
        raise OptError(f"'{name}' returned {type(made).__name__}, not a pass", 2)
    return made


class PassFailed(Exception):
    """A pass raised; names the pass."""


def run_passes(mod, passes: list, keep_ir: bool, timing: bool) -> Run:
    import tvm

    records: list[PassRecord] = []
    stack: list[tuple[str, float]] = []
    running: list[str] = []

    @tvm.instrument.pass_instrument
    class Recorder:
        def run_before_pass(self, mod, info):
            running.append(info.name)
            stack.append((mod.script() + "\n" if keep_ir else "", time.perf_counter()))

        def run_after_pass(self, mod, info):
            running.pop()
            before, start = stack.pop()
            after = mod.script() + "\n" if keep_ir else ""
            records.append(PassRecord(info.name, before, after, time.perf_counter() - start))

    instruments = [Recorder()]
    timer = tvm.ir.instrument.PassTimingInstrument() if timing else None
    if timer is not None:
        instruments.append(timer)
    input_ir = mod.script()
    with tvm.transform.PassContext(instruments=instruments):
        for p in passes:  # one by one, so that only the passes themselves are instrumented
            try:
                mod = p(mod)
            except Exception as err:  # noqa: BLE001
                name = running[-1] if running else p.info.name
                raise PassFailed(f"pass {name} failed: {type(err).__name__}: {err}") from None
        report = timer.render() if timer is not None else ""
    return Run(input_ir, mod.script(), records, report)


def diff(before: str, after: str, name: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"before {name}", f"after {name}"
        )
    )


def main(args, out=sys.stdout) -> int:
    try:
        return _main(args, out)
    except OptError as err:
        print(f"tvm-extend opt: {err}", file=sys.stderr)
        return err.status


def _main(args, out) -> int:
    import tvm

    from . import loader, pipeline
    from .errors import ExtensionError

    loader.autoload()  # installed extensions, as `import tvm_extend` would
    for ext in args.load or []:
        try:
            loader.load_extension(ext)
        except ExtensionError as err:
            raise OptError(f"--load {ext}: {err}", 2) from None
    if bool(args.passes) == bool(args.pipeline):
        raise OptError("give exactly one of --passes and --pipeline", 2)
    check_output("-o", args.output)
    check_output("--html", args.html)
    mod = read_module(args.input)
    if args.passes:
        passes = [make_pass(p) for p in split_passes(args.passes)]
    else:
        try:
            passes = pipeline.passes_of(args.pipeline)
        except Exception as err:  # noqa: BLE001
            raise OptError(f"--pipeline {args.pipeline}: {err}", 2) from None
    target = args.target or ("llvm" if args.pipeline else None)
    if target:  # TVM's lowering pipelines need the target bound to each function
        bound = tvm.target.Target(target)
        mod = tvm.tirx.transform.BindTarget(bound.with_host(bound))(mod)
    keep_ir = bool(args.print_after_all or args.print_after or args.diff or args.html)
    try:
        run = run_passes(mod, passes, keep_ir, args.timing or bool(args.html))
    except PassFailed as err:
        raise OptError(str(err)) from None
    w = out.write
    for rec in run.passes:
        if args.print_after_all or rec.name in (args.print_after or []):
            w(f"// IR after {rec.name} ({rec.seconds * 1e3:.2f} ms)\n{rec.after}")
        if args.diff and rec.changed:
            w(diff(rec.before, rec.after, rec.name))
    if args.timing:
        w(run.timing_report + "\n")
    if args.html:
        from .explorer import write_html

        try:
            write_html(args.html, args.input, run)
        except OSError as err:
            raise OptError(f"--html {args.html}: cannot write: {err.strerror}") from None
    if args.output:
        # A file that Python and `tvm-extend opt` can read again: the printer's imports are
        # comments; make them imports.
        text = re.sub(r"^# (from tvm\.\S+ import .*)$", r"\1", run.output_ir, flags=re.M)
        try:
            with open(args.output, "w") as fh:
                fh.write(text + "\n")
        except OSError as err:
            raise OptError(f"-o {args.output}: cannot write: {err.strerror}") from None
    elif not (args.print_after_all or args.diff):
        w(run.output_ir + "\n")
    return 0


def add_arguments(parser) -> None:
    parser.add_argument("input", help="a Python file holding TVMScript")
    parser.add_argument("--load", action="append", help="an extension to load (name or path)")
    parser.add_argument("--passes", help="comma-separated passes: NAME or NAME(args)")
    parser.add_argument("--pipeline", help="a named TIR pipeline (TVM's or tvm_extend's)")
    parser.add_argument("--target", help="bind this target first (default: llvm with --pipeline)")
    parser.add_argument("-o", "--output", help="write the result here instead of stdout")
    parser.add_argument("--print-after-all", action="store_true")
    parser.add_argument("--print-after", action="append", metavar="PASS")
    parser.add_argument("--diff", action="store_true", help="a unified diff per changing pass")
    parser.add_argument("--timing", action="store_true", help="TVM's pass timing report")
    parser.add_argument("--html", metavar="OUT.html", help="write the pass explorer page")
