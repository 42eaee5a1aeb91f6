"""The loader: two extensions in one process, listing, and every bad input named in a clear
error, with the process surviving and nothing half-registered."""

import os
import shutil

import pytest
import tvm
import tvm_ffi

import my_custom_pass  # noqa: F401  (loads the example extension)
import tvm_extend
from conftest import run_python


def lib(folder, name):
    return str(folder / f"lib{name}.so")


def registered(name):
    return tvm_ffi.get_global_func(name, allow_missing=True) is not None


def test_two_extensions_in_one_process(test_extensions):
    ext_b = tvm_extend.load_extension(lib(test_extensions, "ext_b"))
    assert ext_b.name == "ext_b" and ext_b.version == "0.2.0"
    assert ext_b["add_one"](41) == 42
    assert tvm.get_global_func("ext_b.greet")("tvm") == "hello, tvm"
    names = {e.name for e in tvm_extend.list_extensions() if e.active}
    assert {"my_custom_pass", "ext_b"} <= names
    # Both extensions' passes in one Sequential.
    before = ext_b["pass_runs"]()
    x = tvm.tirx.Var("x", "int32")
    func = tvm.tirx.PrimFunc([x], tvm.tirx.Evaluate(x * 4))
    seq = tvm.transform.Sequential([my_custom_pass.MulDivToShift(), ext_b["transform.CountRuns"]()])
    out = seq(tvm.IRModule({"main": func}))
    assert ext_b["pass_runs"]() == before + 1
    # 0.27 prints the shift as an operator, 0.26 as a call.
    assert "x << 2" in out.script() or "T.shift_left(x, 2)" in out.script()


def test_list_extensions_shows_versions_and_registrations():
    [ext] = [e for e in tvm_extend.list_extensions() if e.name == "my_custom_pass"]
    assert ext.version == "1.0.0"
    assert ext.built_tvm_version == tvm.__version__
    assert ext.built_ffi_abi_version.count(".") == 2
    assert "my_custom_pass.transform.MulDivToShift" in ext.passes
    assert "my_custom_pass.rewrite_expr" in ext.functions
    assert all(":" in r.source for r in ext.registrations)


def test_loading_twice_is_idempotent(test_extensions):
    first = tvm_extend.load_extension(lib(test_extensions, "ext_b"))
    again = tvm_extend.load_extension(lib(test_extensions, "ext_b"))
    assert first == again


def test_missing_file(tmp_path):
    path = str(tmp_path / "libnothing.so")
    with pytest.raises(tvm_extend.ExtensionLoadError, match="no such file.*libnothing.so"):
        tvm_extend.load_extension(path)


def test_unknown_package_name():
    with pytest.raises(
        tvm_extend.ExtensionLoadError,
        match="cannot find the library of "
        "extension .no_such_ext_pkg.(.|\n)*TVM_EXTEND_LIBRARY_PATH",
    ):
        tvm_extend.load_extension("no_such_ext_pkg")


def test_not_a_library(tmp_path):
    path = tmp_path / "libfake.so"
    path.write_text("this is not an ELF file\n")
    with pytest.raises(tvm_extend.ExtensionLoadError, match="not a loadable shared library"):
        tvm_extend.load_extension(str(path))


def test_no_entry_point(test_extensions):
    with pytest.raises(
        tvm_extend.ExtensionLoadError, match="has no tvm-extend entry point.*TVM_EXTEND_EXTENSION"
    ):
        tvm_extend.load_extension(lib(test_extensions, "no_entry"))


def test_built_against_another_tvm(test_extensions):
    with pytest.raises(tvm_extend.ExtensionVersionError) as info:
        tvm_extend.load_extension(lib(test_extensions, "other_tvm"))
    message = str(info.value)
    assert "built against TVM 0.25.0" in message
    assert f"running TVM is {tvm.__version__}" in message
    assert "releases before 0.26 have another IR model" in message
    assert not registered("other_tvm.f")


def test_built_against_another_supported_release(test_extensions):
    # The same source stamped 0.26.0: it uses TVM only through tvm-ffi, so the binding of what
    # it uses decides, not the release (docs/version-policy.md).
    ext = tvm_extend.load_extension(lib(test_extensions, "other_release"))
    try:
        assert ext.built_tvm_version == "0.26.0" and not ext.exact_tvm_release
        assert registered("other_release.f")
    finally:
        tvm_extend.unload_extension("other_release")


def test_same_extension_from_two_files_names_both_owners(test_extensions):
    tvm_extend.load_extension(lib(test_extensions, "dup_one"))
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(lib(test_extensions, "dup_two"))
    message = str(info.value)
    assert "'dup.f' is already registered by extension 'dup' 1.0.0" in message
    assert "libdup_one.so" in message and "libdup_two.so" in message
    assert "dup.cc" in message  # where the second one registers it
    # The first one still works.
    assert tvm.get_global_func("dup.f")() == 1


def test_namespace_of_tvm_names_tvm_as_owner(test_extensions):
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(lib(test_extensions, "tvm_clash"))
    message = str(info.value)
    assert "extension 'tirx' 6.6.6" in message and "libtvm_clash.so" in message
    assert "namespace 'tirx.' is already used by TVM" in message
    assert "libtvm_compiler.so" in message
    # TVM's own pass is untouched.
    assert isinstance(tvm.tirx.transform.StmtSimplify(), tvm.transform.Pass)


def test_namespace_taken_by_a_python_function(test_extensions):
    tvm_ffi.register_global_func("pyreg.taken", lambda: "python")
    try:
        with pytest.raises(
            tvm_extend.DuplicateRegistrationError,
            match="namespace 'pyreg.' is already used by a Python function.*'pyreg.taken'",
        ):
            tvm_extend.load_extension(lib(test_extensions, "pyreg"))
        assert tvm.get_global_func("pyreg.taken")() == "python"
    finally:
        tvm_ffi.remove_global_func("pyreg.taken")


def test_name_outside_the_extension_prefix(test_extensions):
    with pytest.raises(
        tvm_extend.ExtensionLoadError,
        match="'somebody_else.name'.*does not start with 'bad_prefix.'",
    ):
        tvm_extend.load_extension(lib(test_extensions, "bad_prefix"))
    assert not registered("bad_prefix.fine")


def test_registration_throwing_midway_registers_nothing(test_extensions):
    with pytest.raises(tvm_extend.ExtensionLoadError) as info:
        tvm_extend.load_extension(lib(test_extensions, "midway"))
    message = str(info.value)
    assert "midway.c" in message and "its backend is missing" in message
    assert "Nothing of the extension was registered" in message
    for name in ("midway.a", "midway.b", "midway.c", "midway.d"):
        assert not registered(name)
    assert "midway" not in {e.name for e in tvm_extend.list_extensions()}


def test_pass_throwing_at_run_time(test_extensions):
    ext = tvm_extend.load_extension(lib(test_extensions, "throwing"))
    x = tvm.tirx.Var("x", "int32")
    mod = tvm.IRModule({"main": tvm.tirx.PrimFunc([x], tvm.tirx.Evaluate(x))})
    with pytest.raises(ValueError) as info:
        ext["transform.Explode"]()(mod)
    assert "pass throwing.transform.Explode failed: cannot handle this loop nest" in str(info.value)
    # The process and the module survive; other passes still run.
    assert my_custom_pass.MulDivToShift()(mod) is not None


def test_wrong_argument_types(test_extensions):
    ext = tvm_extend.load_extension(lib(test_extensions, "ext_b"))
    with pytest.raises(TypeError) as info:
        ext["add_one"]("forty-one")
    assert "ext_b.add_one" in str(info.value)
    assert "Expected `int`" in str(info.value)
    with pytest.raises(TypeError, match="ext_b.greet.*Expected `std::string` but got `int`"):
        ext["greet"](42)
    with pytest.raises(TypeError, match="ext_b.add_one"):
        ext["add_one"](1, 2)


def load_private_dup(test_extensions, tmp_path, filename):
    """Load extension 'dup' from a private copy, so that unloading it disturbs no other test."""
    path = tmp_path / filename
    shutil.copy(lib(test_extensions, "dup_two"), path)
    if registered("dup.f"):
        tvm_extend.unload_extension("dup")
    return path, tvm_extend.load_extension(str(path))


def test_unload_removes_names_and_reload_restores(test_extensions, tmp_path):
    path, ext = load_private_dup(test_extensions, tmp_path, "libdup_two.so")
    f = tvm.get_global_func("dup.f")
    tvm_extend.unload_extension("dup")
    assert not registered("dup.f")
    assert f() == 1  # a function fetched before unloading keeps working
    assert not [e for e in tvm_extend.list_extensions() if e.path == ext.path][0].active
    tvm_extend.load_extension(str(path))
    assert tvm.get_global_func("dup.f")() == 1
    # Reloading an unchanged file reuses its entry instead of adding one.
    assert [e.path for e in tvm_extend.list_extensions()].count(ext.path) == 1
    with pytest.raises(tvm_extend.ExtensionLoadError, match="'nope': it is not loaded"):
        tvm_extend.unload_extension("nope")


def test_finder_env_override(test_extensions, monkeypatch):
    monkeypatch.setenv("TVM_EXTEND_LIBRARY_PATH", str(test_extensions))
    assert tvm_extend.find_extension_library("ext_b") == os.path.abspath(
        lib(test_extensions, "ext_b")
    )
    assert tvm_extend.load_extension("ext_b").name == "ext_b"


def test_describe_owner():
    assert "extension 'my_custom_pass'" in tvm_extend.describe_owner(
        "my_custom_pass.transform.MulDivToShift"
    )
    assert tvm_extend.describe_owner("tirx.transform.StmtSimplify").startswith("TVM ")
    assert tvm_extend.describe_owner("no.such.name") == ""


def test_plain_static_registration_kills_the_process_but_ours_does_not(test_extensions):
    """Evidence for why the macros only collect: TVM-style registration of a taken name in a
    static initializer takes the whole process down at load time."""
    plain = run_python(
        f"""
        import ctypes, tvm
        ctypes.CDLL({lib(test_extensions, "plain_static")!r})
        print("survived")
        """
    )
    assert plain.returncode != 0 and "survived" not in plain.stdout
    assert "tirx.transform.StmtSimplify" in plain.stderr
    ours = run_python(
        f"""
        import tvm_extend
        try:
            tvm_extend.load_extension({lib(test_extensions, "tvm_clash")!r})
        except tvm_extend.DuplicateRegistrationError as err:
            print("refused:", err)
        print("survived")
        """
    )
    assert ours.returncode == 0, ours.stderr
    assert "refused:" in ours.stdout and ours.stdout.strip().endswith("survived")


def test_registration_failing_midway_rolls_back(test_extensions):
    """The factory of racy.b registers racy.c behind the loader's back: the load is refused,
    racy.c is removed again, and nothing of the extension stays registered."""
    with pytest.raises(tvm_extend.ExtensionLoadError) as info:
        tvm_extend.load_extension(lib(test_extensions, "racy"))
    message = str(info.value)
    assert "its registration factories registered global names themselves" in message
    assert "'racy.c' (new)" in message and "put back as they were" in message
    assert not registered("racy.a") and not registered("racy.b") and not registered("racy.c")
    assert "racy" not in {e.name for e in tvm_extend.list_extensions()}


def test_built_against_a_newer_tvm_ffi_abi(test_extensions):
    with pytest.raises(tvm_extend.ExtensionVersionError) as info:
        tvm_extend.load_extension(lib(test_extensions, "other_ffi"))
    message = str(info.value)
    assert "built against the tvm-ffi C ABI 0.1.99" in message
    assert "running tvm-ffi C ABI is 0.1." in message
    assert not registered("other_ffi.f")


def test_non_std_exceptions_do_not_kill_the_process(test_extensions):
    with pytest.raises(tvm_extend.ExtensionLoadError, match="odd_factory.b .*not a std::exception"):
        tvm_extend.load_extension(lib(test_extensions, "odd_factory"))
    assert not registered("odd_factory.a")
    ext = tvm_extend.load_extension(lib(test_extensions, "odd_throws"))
    x = tvm.tirx.Var("x", "int32")
    mod = tvm.IRModule({"main": tvm.tirx.PrimFunc([x], tvm.tirx.Evaluate(x))})
    with pytest.raises(
        RuntimeError,
        match="pass odd_throws.transform.ThrowsInt failed: .*not a std::exception",
    ):
        ext["transform.ThrowsInt"]()(mod)


def test_pass_returning_the_wrong_type_is_named(test_extensions):
    ext = tvm_extend.load_extension(lib(test_extensions, "odd_throws"))
    x = tvm.tirx.Var("x", "int32")
    mod = tvm.IRModule({"main": tvm.tirx.PrimFunc([x], tvm.tirx.Evaluate(x))})
    with pytest.raises(
        TypeError,
        match="pass odd_throws.transform.ReturnsModule returned "
        "ir.IRModule; a PrimFunc pass must return a tirx.PrimFunc",
    ):
        ext["transform.ReturnsModule"]()(mod)


def test_lambda_with_commas_in_the_macro(test_extensions):
    ext = tvm_extend.load_extension(lib(test_extensions, "ext_b"))
    assert ext["weighted_sum"](2, 3) == 24


def test_directory_is_not_a_library(tmp_path):
    with pytest.raises(tvm_extend.ExtensionLoadError, match="is a directory"):
        tvm_extend.load_extension(str(tmp_path))
    with pytest.raises(tvm_extend.ExtensionLoadError, match="is a directory"):
        tvm_extend.load_extension(".")


def test_rebuilt_library_at_a_loaded_path_loads_from_a_copy(test_extensions, tmp_path):
    path, old = load_private_dup(test_extensions, tmp_path, "libswap.so")
    tvm_extend.unload_extension("dup")
    # Another build now sits at the same path: dlopen would return the old code, so the loader
    # maps a private copy of the new file, and names the user's file.
    path.unlink()
    shutil.copy(lib(test_extensions, "dup_one"), path)
    new = tvm_extend.load_extension(str(path))
    assert new.active and new.path == old.path == str(path.resolve())
    assert tvm.get_global_func("dup.f")() == 1
    tvm_extend.unload_extension("dup")


def test_unload_leaves_a_name_someone_else_took_over(test_extensions, tmp_path):
    load_private_dup(test_extensions, tmp_path, "libdup_two.so")
    tvm_ffi.remove_global_func("dup.f")
    tvm_ffi.register_global_func("dup.f", lambda: "python")
    try:
        tvm_extend.unload_extension("dup")
        assert tvm.get_global_func("dup.f")() == "python"
    finally:
        tvm_ffi.remove_global_func("dup.f")


# --- The loader as a transaction: files inspected before they run, code behind its back undone.


def _patched_copy(test_extensions, tmp_path, name, patch):
    data = bytearray((test_extensions / "libext_b.so").read_bytes())
    patch(data)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    os.utime(path, (1_000_000_000, 1_000_000_000))  # long settled
    return str(path)


def test_truncated_library_is_refused_without_mapping(test_extensions, tmp_path):
    path = _patched_copy(
        test_extensions, tmp_path, "libhalf.so", lambda d: d.__delitem__(slice(len(d) // 2, None))
    )
    with pytest.raises(tvm_extend.ExtensionLoadError, match="past the end of the file.*incomplete"):
        tvm_extend.load_extension(path)


def test_library_for_another_machine_is_named(test_extensions, tmp_path):
    def to_aarch64(data):
        data[18:20] = (183).to_bytes(2, "little")  # e_machine = EM_AARCH64

    path = _patched_copy(test_extensions, tmp_path, "libarm.so", to_aarch64)
    with pytest.raises(
        tvm_extend.ExtensionLoadError, match="built for AArch64.*this machine is x86-64"
    ):
        tvm_extend.load_extension(path)


def test_plain_library_registering_itself_is_never_mapped(test_extensions):
    with pytest.raises(tvm_extend.ExtensionLoadError, match="registers global functions itself"):
        tvm_extend.load_extension(lib(test_extensions, "plain_fresh"))
    assert not registered("plain_fresh.f")


def test_static_initializer_registering_behind_the_loader_is_undone(test_extensions):
    with pytest.raises(tvm_extend.ExtensionLoadError) as info:
        tvm_extend.load_extension(lib(test_extensions, "stray_static"))
    assert "its static initializers registered global names themselves" in str(info.value)
    assert "'stray_static.unchecked' (new)" in str(info.value)
    assert not registered("stray_static.unchecked") and not registered("stray_static.checked")


def test_listing_from_a_factory_during_load_is_answered(test_extensions):
    ext = tvm_extend.load_extension(lib(test_extensions, "reenter_list"))
    assert ext["seen"]() >= 1  # what ListExtensions returned while the load was running


def test_loading_from_a_factory_during_load_is_an_error(test_extensions):
    with pytest.raises(tvm_extend.ExtensionLoadError, match="while the loader is busy to load"):
        tvm_extend.load_extension(lib(test_extensions, "reenter_load"))
    assert not registered("reenter_load.seen")
    tvm_extend.list_extensions()  # the loader is free again


def test_registered_functions_are_guarded_and_named(test_extensions):
    ext = tvm_extend.load_extension(lib(test_extensions, "odd_throws"))
    with pytest.raises(RuntimeError, match="function odd_throws.throw_int failed: .*not a std"):
        ext["throw_int"](1)
    with pytest.raises(
        RuntimeError,
        match=r"function odd_throws.throw_std failed: index 7 is out of range "
        r"\(std::out_of_range\)",
    ):
        ext["throw_std"](7)
    with pytest.raises(TypeError, match="odd_throws.throw_std"):
        ext["throw_std"]("seven")
