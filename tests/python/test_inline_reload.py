"""load_inline (build from strings, cache, lock, progress) and reload_extension (hot reload in
one process, and what happens to what the old code made)."""

import os
import pty
import shutil
import subprocess
import sys
import time

import pytest
import tvm
from tvm.script import tirx as T

import tvm_extend
from conftest import cmake_build, run_python


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TVM_EXTEND_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


ADD = "int64_t add(int64_t x) { return x + VALUE; }"


def test_inline_function_cached_and_redefined(cache):
    t0 = time.perf_counter()
    first = tvm_extend.load_inline("inl_fn", ADD.replace("VALUE", "1"), functions=["add"])
    cold = time.perf_counter() - t0
    assert first.add(41) == 42 and not first.cached
    t0 = time.perf_counter()
    again = tvm_extend.load_inline("inl_fn", ADD.replace("VALUE", "1"), functions=["add"])
    cached = time.perf_counter() - t0
    assert again.cached and again.add(1) == 2
    old_handle = tvm.get_global_func("inl_fn.add")
    changed = tvm_extend.load_inline("inl_fn", ADD.replace("VALUE", "100"), functions=["add"])
    assert changed.add(1) == 101
    assert tvm.get_global_func("inl_fn.add")(1) == 101  # new calls use the new code
    assert old_handle(1) == 2  # a handle fetched before keeps the old code, and works
    print(f"inline build: cold {cold:.1f} s, cached {cached * 1e3:.1f} ms")


def test_inline_pass_with_typed_views(cache):
    source = """
    tvm::ffi::ObjectRef SwapAddOperands(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef,
                                        tvm::ffi::ObjectRef) {
      using namespace tvm_extend::tir;
      struct Swap : StmtExprMutator {
        Expr VisitExpr_(const Add& op) override {
          Add add = VisitChildren(op);
          return Add::Make(add.b(), add.a());
        }
      };
      PrimFunc f(func);
      return PrimFunc::Make(f.params(), Swap().VisitStmt(f.body()), f.ret_type(), f.attrs());
    }
    """
    mod = tvm_extend.load_inline("inl_pass", source, passes=["SwapAddOperands"])

    @T.prim_func
    def before(A: T.Buffer((4,), "int32")):
        for i in range(4):
            A[i] = A[i] + i

    @T.prim_func
    def expected(A: T.Buffer((4,), "int32")):
        for i in range(4):
            A[i] = i + A[i]

    after = mod.SwapAddOperands()(tvm.IRModule({"main": before}))["main"]
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "before"))


def test_compile_error_is_reported_with_the_build_folder(cache):
    with pytest.raises(tvm_extend.BuildError) as info:
        tvm_extend.load_inline("inl_bad", "int64_t f(int64_t x) { return x +; }", functions=["f"])
    message = str(info.value)
    assert "building inline extension 'inl_bad' failed" in message
    assert "error" in message and "inline.cc" in message
    assert str(cache) in message
    assert tvm.get_global_func("inl_bad.f", allow_missing=True) is None


def test_concurrent_builds_are_safe(tmp_path):
    code = f"""
import tvm_extend
m = tvm_extend.load_inline("inl_race", {ADD.replace("VALUE", "7")!r}, functions=["add"])
print(m.add(1), m.build_dir)
"""
    env = dict(os.environ, TVM_EXTEND_CACHE_DIR=str(tmp_path / "c"), TVM_EXTEND_NO_AUTOLOAD="1")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    results = {o[0].split()[0] for o in outs}
    dirs = {o[0].split()[1] for o in outs}
    assert results == {"8"} and len(dirs) == 1
    assert len(list((tmp_path / "c").glob("inl_race-*/complete"))) == 1


def test_progress_is_shown_on_a_terminal(tmp_path):
    code = f"""
import tvm_extend
tvm_extend.load_inline("inl_tty", {ADD.replace("VALUE", "3")!r}, functions=["add"])
"""
    env = dict(os.environ, TVM_EXTEND_CACHE_DIR=str(tmp_path / "c"), TVM_EXTEND_NO_AUTOLOAD="1")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=600)
    os.close(leader)
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "building inline extension 'inl_tty'" in text and "done in" in text


RELOAD_SRC = """
#include <tvm_extend/extension.h>
TVM_EXTEND_EXTENSION(hot, "VERSION");
namespace {
int64_t Value() { return VALUE; }
tvm::ffi::ObjectRef Mark(tvm::ffi::ObjectRef func, tvm::ffi::ObjectRef, tvm::ffi::ObjectRef) {
  static tvm::ffi::Function with_attr =
      tvm_extend::abi::RequireGlobal("ir.BaseFuncWithAttr", "hot");
  return with_attr(func, "hot_version", int64_t{VALUE}).cast<tvm::ffi::ObjectRef>();
}
}  // namespace
TVM_EXTEND_REGISTER_FUNC("hot.value", Value);
TVM_EXTEND_REGISTER_PRIM_FUNC_PASS("hot.transform.Mark", Mark, 0);
EXTRA
"""

RELOAD_CMAKE = """
cmake_minimum_required(VERSION 3.18)
project(hot LANGUAGES CXX)
find_package(tvm_extend CONFIG REQUIRED)
tvm_extend_add_extension(hot SOURCES hot.cc NO_IR_VIEWS)
"""


def build_hot(folder, value, extra=""):
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "CMakeLists.txt").write_text(RELOAD_CMAKE)
    source = RELOAD_SRC.replace("VALUE", str(value)).replace("VERSION", f"{value}.0")
    (folder / "src" / "hot.cc").write_text(source.replace("EXTRA", extra))
    cmake_build(folder / "src", folder / "build")
    return folder / "build" / "libhot.so"


def test_reload_after_rebuild_in_place(tmp_path):
    library = build_hot(tmp_path, 1, 'TVM_EXTEND_REGISTER_FUNC("hot.only_in_v1", Value);')
    ext = tvm_extend.load_extension(str(library))
    old_value = tvm.get_global_func("hot.value")
    old_pass = ext["transform.Mark"]()
    func = tvm.tirx.PrimFunc([], tvm.tirx.Evaluate(0))
    mod = tvm.IRModule({"main": func})

    build_hot(tmp_path, 2, 'TVM_EXTEND_REGISTER_FUNC("hot.only_in_v2", Value);')
    t0 = time.perf_counter()
    new = tvm_extend.reload_extension("hot")
    reload_ms = (time.perf_counter() - t0) * 1e3
    assert new.version == "2.0"
    assert tvm.get_global_func("hot.value")() == 2  # new calls: new code
    assert new["transform.Mark"]()(mod)["main"].attrs["hot_version"] == 2
    assert old_value() == 1  # what the old code made keeps working, with the old code
    assert old_pass(mod)["main"].attrs["hot_version"] == 1
    assert tvm.get_global_func("hot.only_in_v1", allow_missing=True) is None  # dropped
    assert tvm.get_global_func("hot.only_in_v2")() == 2  # added
    assert [e.name for e in tvm_extend.list_extensions() if e.active].count("hot") == 1

    # A rebuild the loader refuses leaves the running version in place.
    build_hot(tmp_path, 3, 'TVM_EXTEND_REGISTER_FUNC("elsewhere.name", Value);')
    with pytest.raises(tvm_extend.ExtensionLoadError, match="does not start with 'hot.'"):
        tvm_extend.reload_extension("hot")
    assert tvm.get_global_func("hot.value")() == 2
    print(f"reload: {reload_ms:.1f} ms")


def test_reload_of_an_extension_that_is_not_loaded():
    with pytest.raises(tvm_extend.ExtensionLoadError, match="'nothing_here': it is not loaded"):
        tvm_extend.reload_extension("nothing_here")


def test_reload_refuses_another_extension(tmp_path, test_extensions):
    if tvm.get_global_func("hot.value", allow_missing=True) is None:  # not loaded by a test above
        tvm_extend.load_extension(str(build_hot(tmp_path / "a", 5)))
    other = tmp_path / "libext.so"
    shutil.copy(test_extensions / "libdup_two.so", other)
    with pytest.raises(tvm_extend.ExtensionLoadError, match="that library is extension 'dup'"):
        tvm_extend.reload_extension("hot", other)


def test_reload_in_a_fresh_process_keeps_passes_usable():
    result = run_python(
        """
        import tvm, tvm_ffi, tvm_extend, my_custom_pass
        p = my_custom_pass.MulDivToShift()
        tvm_extend.reload_extension("my_custom_pass")
        x = tvm.tirx.Var("x", "int32")
        f = tvm.tirx.PrimFunc([x], tvm.tirx.Evaluate(x * 4))
        shifted = tvm.IRModule({"main": tvm.tirx.PrimFunc([x], tvm.tirx.Evaluate(x << 2))})
        for q in (p, my_custom_pass.MulDivToShift()):  # the pass made before the reload, and after
            print(tvm_ffi.structural_equal(q(tvm.IRModule({"main": f})), shifted))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_reload_and_inline_refuse_bad_input(tmp_path):
    if tvm.get_global_func("hot.value", allow_missing=True) is None:
        tvm_extend.load_extension(str(build_hot(tmp_path / "b", 6)))
    with pytest.raises(tvm_extend.ExtensionLoadError, match="no such file"):
        tvm_extend.reload_extension("hot", tmp_path / "missing.so")
    with pytest.raises(ValueError, match="cannot name an extension"):
        tvm_extend.load_inline("Not-A-Name", "int64_t f() { return 1; }", functions=["f"])


def _write_slowly(data: bytes, path, chunks: int, pause: float) -> None:
    """Write `data` to `path` in `chunks` pieces, as a linker does, pausing between them."""
    step = len(data) // chunks + 1
    with open(path, "wb") as out:
        for i in range(0, len(data), step):
            out.write(data[i : i + step])
            out.flush()
            time.sleep(pause)


def test_reload_while_the_file_is_being_written(tmp_path):
    """A hot reload during a build: a file still being written is waited for (a few seconds at
    most) or refused, a cut-off one is refused as incomplete, and the running version stays."""
    import threading

    library = build_hot(tmp_path / "v1", 1)
    new_build = build_hot(tmp_path / "v2", 2).read_bytes()
    target = tmp_path / "libhot.so"
    shutil.copy(library, target)
    if tvm.get_global_func("hot.value", allow_missing=True) is not None:
        tvm_extend.unload_extension("hot")
    os.utime(target, (1_000_000_000, 1_000_000_000))
    tvm_extend.load_extension(str(target))
    old_value = tvm.get_global_func("hot.value")

    # 1. Written for about a second: the reload waits for the file to settle and gets v2.
    target.unlink()
    writer = threading.Thread(target=_write_slowly, args=(new_build, target, 10, 0.1))
    writer.start()
    time.sleep(0.05)
    try:
        assert tvm_extend.reload_extension("hot", target).version == "2.0"
    finally:
        writer.join()
    assert tvm.get_global_func("hot.value")() == 2 and old_value() == 1

    # 2. Still changing after the loader's limit: refused, saying so; v2 stays.
    writer = threading.Thread(target=_write_slowly, args=(new_build, target, 80, 0.1))
    writer.start()
    time.sleep(0.05)
    try:
        with pytest.raises(tvm_extend.ExtensionLoadError, match="still being written") as info:
            tvm_extend.reload_extension("hot", target)
        assert str(target) in str(info.value)  # the user's file, not a temporary copy
    finally:
        writer.join()
    assert tvm.get_global_func("hot.value")() == 2

    # 3. Cut off (the build died): refused as incomplete, naming the user's file; v2 stays.
    target.write_bytes(new_build[: len(new_build) // 3])
    os.utime(target, (1_000_000_000, 1_000_000_000))
    with pytest.raises(tvm_extend.ExtensionLoadError, match="incomplete") as info:
        tvm_extend.reload_extension("hot", target)
    assert str(target) in str(info.value) and "/tmp/lib" not in str(info.value).replace(
        str(target), ""
    )
    assert tvm.get_global_func("hot.value")() == 2
