"""Pass config options from extensions (TVM_EXTEND_REGISTER_PASS_CONFIG): registered with TVM
after the loader's checks, set with tvm.transform.PassContext(config=...), read by C++ passes;
TVM's own options, another library's and a changed type refused; kept by TVM after unload."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tvm
import tvm_ffi
from tir_corpus import matmul
from tvm import s_tir
from tvm.script import tirx as T

import tvm_extend
from conftest import ROOT

OPTIONS = {  # name: (type, default, doc) as tests/extensions/cfg_ext.cc declares them
    "cfg_ext.tile": ("int", 16, "columns per tile"),
    "cfg_ext.scale": ("float", 1.5, "a scale"),
    "cfg_ext.fast": ("bool", False, "take shortcuts"),
    "cfg_ext.mode": ("str", "auto", "how to schedule"),
}


def list_configs() -> dict[str, str]:
    """TVM's own list of options: key -> type."""
    configs = tvm.get_global_func("transform.ListConfigs")()
    return {str(k): str(v["type"]) for k, v in configs.items()}


@T.prim_func
def copy(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32")):
    for i in range(4):
        B[i] = A[i]


def seen(ext) -> str:
    """What cfg_ext's C++ pass read from its PassContext argument."""
    out = ext["transform.Record"]()(tvm.IRModule({"main": copy}))
    return str(out["main"].attrs["cfg_ext.seen"])


@pytest.fixture(scope="module")
def cfg_path(test_extensions, tmp_path_factory):
    """A private copy of libcfg_ext.so: this module loads, reloads and unloads it."""
    path = tmp_path_factory.mktemp("cfg") / "libcfg_ext.so"
    shutil.copy(test_extensions / "libcfg_ext.so", path)
    return path


@pytest.fixture
def cfg(cfg_path):
    """Extension cfg_ext, loaded (again, when a test before unloaded it)."""
    for ext in tvm_extend.list_extensions():
        if ext.name == "cfg_ext" and ext.active:
            return ext
    return tvm_extend.load_extension(str(cfg_path))


def test_options_are_registered_with_their_types_defaults_and_docs(cfg):
    assert [r.kind for r in cfg.registrations][:4] == ["pass_config"] * 4
    options = cfg.config_options
    assert {name: (o.type, o.default, o.doc) for name, o in options.items()} == OPTIONS
    source = (ROOT / "tests" / "extensions" / "cfg_ext.cc").read_text().splitlines()
    line = source.index(
        'TVM_EXTEND_REGISTER_PASS_CONFIG("cfg_ext.tile", int64_t, 16, "columns per tile");'
    )
    assert options["cfg_ext.tile"].source.endswith(f"cfg_ext.cc:{line + 1}")
    taken = list_configs()
    assert {name: taken[name] for name in OPTIONS} == {n: t for n, (t, _, _) in OPTIONS.items()}


def test_a_cpp_pass_reads_them_from_its_pass_context(cfg):
    assert seen(cfg) == "tile=16 scale=1.5 fast=0 mode=auto"  # the defaults, when unset
    config = {"cfg_ext.tile": 64, "cfg_ext.scale": 2, "cfg_ext.fast": True, "cfg_ext.mode": "x"}
    with tvm.transform.PassContext(config=config) as ctx:
        assert seen(cfg) == "tile=64 scale=2 fast=1 mode=x"
        assert str(cfg["read"]()) == "tile=64 scale=2 fast=1 mode=x"  # the current context
        # TVM converted the int given for the float option.
        assert isinstance(ctx.config["cfg_ext.scale"], float)
    assert str(cfg["read"]()) == "tile=16 scale=1.5 fast=0 mode=auto"


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("cfg_ext.tile", "big", "takes an int, not a str ('big')"),
        ("cfg_ext.tile", 1.5, "takes an int, not a float (1.5)"),
        ("cfg_ext.fast", "yes", "takes a bool, not a str ('yes')"),
        ("cfg_ext.mode", 3, "takes a str, not an int (3)"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_option(cfg, option, value, message):
    with pytest.raises(TypeError) as info:
        tvm.transform.PassContext(config={option: value})
    assert f"pass config option '{option}' (of extension 'cfg_ext') {message}" in str(info.value)


def test_reading_an_option_as_another_type_names_it(cfg):
    assert cfg["read_mode_as_int"]() == 0  # unset: the reader's default
    with tvm.transform.PassContext(config={"cfg_ext.mode": "x"}):
        with pytest.raises(TypeError) as info:
            cfg["read_mode_as_int"]()
    assert (
        "function cfg_ext.read_mode_as_int failed: pass config option 'cfg_ext.mode' holds a "
        "str ('x'), but this code reads it as an int" in str(info.value)
    )


def test_an_option_of_tvm_is_refused_naming_tvm(test_extensions):
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(str(test_extensions / "libcfg_clash.so"))
    message = str(info.value)
    assert (
        f"the pass config option 'tirx.noalias' is already registered by TVM {tvm.__version__} ("
        in message
    )
    assert "libtvm_compiler.so) as a bool; extension 'tirx' 6.6.6" in message
    assert "libcfg_clash.so" in message and "cfg_clash.cc:7" in message
    # TVM's option is untouched (registering it again would have ended the process).
    assert tvm.transform.PassContext(config={"tirx.noalias": False}).config["tirx.noalias"] is False


def test_the_same_option_from_a_second_library_names_both(cfg, test_extensions):
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(str(test_extensions / "libcfg_ext_copy.so"))
    message = str(info.value)
    assert (
        f"the pass config option 'cfg_ext.tile' is already registered by extension 'cfg_ext' "
        f"1.0.0 ({cfg.path})" in message
    )
    assert "libcfg_ext_copy.so) registers it again at" in message
    assert seen(cfg) == "tile=16 scale=1.5 fast=0 mode=auto"  # the first one still works


def test_an_option_a_library_outside_registered_is_refused(test_extensions):
    ctypes.CDLL(str(test_extensions / "libcfg_foreign.so"))  # registers cfg_outside.tile
    assert list_configs()["cfg_outside.tile"] == "int"
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(str(test_extensions / "libcfg_outside.so"))
    message = str(info.value)
    assert (
        "the pass config option 'cfg_outside.tile' is already registered by a library outside "
        "tvm-extend" in message
    )
    assert f"it is not one of TVM {tvm.__version__}'s own" in message
    assert "libcfg_outside.so" in message
    assert not any(e.name == "cfg_outside" and e.active for e in tvm_extend.list_extensions())


def test_a_reload_with_the_same_types_reuses_the_options(cfg, test_extensions, tmp_path):
    new_build = tmp_path / "libcfg_ext.so"
    shutil.copy(test_extensions / "libcfg_ext_copy.so", new_build)
    before = list_configs()
    ext = tvm_extend.reload_extension("cfg_ext", str(new_build))
    assert ext.path == str(new_build)
    assert list_configs() == before
    assert {n: (o.type, o.default, o.doc) for n, o in ext.config_options.items()} == OPTIONS
    with tvm.transform.PassContext(config={"cfg_ext.tile": 8}):
        assert seen(ext) == "tile=8 scale=1.5 fast=0 mode=auto"


def test_a_reload_that_changes_a_type_is_refused_naming_both_types(cfg, test_extensions):
    with pytest.raises(tvm_extend.ExtensionLoadError) as info:
        tvm_extend.reload_extension("cfg_ext", str(test_extensions / "libcfg_ext_changed.so"))
    message = str(info.value)
    assert "the pass config option 'cfg_ext.tile' (" in message
    assert f"changed its type: extension 'cfg_ext' 1.0.0 ({cfg.path}) registered it as an int" in (
        message
    )
    assert "libcfg_ext_changed.so) declares it as a float" in message
    assert "TVM cannot remove or change a config option" in message
    assert list_configs()["cfg_ext.tile"] == "int"
    assert seen(cfg) == "tile=16 scale=1.5 fast=0 mode=auto"  # the loaded build runs on


def test_unload_leaves_the_options_usable_and_a_new_load_reuses_them(
    cfg, cfg_path, test_extensions
):
    tvm_extend.unload_extension("cfg_ext")
    assert tvm_ffi.get_global_func("cfg_ext.read", allow_missing=True) is None
    mine = [o for o in tvm_extend.loader.config_options() if o.extension == "cfg_ext"]
    assert sorted(o.name for o in mine) == sorted(OPTIONS) and not any(o.active for o in mine)
    # TVM cannot remove an option: it stays, with its type and its checks.
    assert {n: list_configs()[n] for n in OPTIONS} == {n: t for n, (t, _, _) in OPTIONS.items()}
    assert tvm.transform.PassContext(config={"cfg_ext.tile": 5}).config["cfg_ext.tile"] == 5
    with pytest.raises(TypeError, match="takes an int, not a str"):
        tvm.transform.PassContext(config={"cfg_ext.tile": "big"})
    # A build that changed a type cannot take it over; the same types can.
    with pytest.raises(tvm_extend.ExtensionLoadError, match="declares it as a float"):
        tvm_extend.load_extension(str(test_extensions / "libcfg_ext_changed.so"))
    ext = tvm_extend.load_extension(str(cfg_path))
    assert sorted(ext.config_options) == sorted(OPTIONS)
    assert all(o.active for o in ext.config_options.values())
    with tvm.transform.PassContext(config={"cfg_ext.fast": True}):
        assert seen(ext) == "tile=16 scale=1.5 fast=1 mode=auto"


# --- project_a's option: the tile of its micro-kernel -----------------------------------------

TARGET = tvm.target.Target({"kind": "llvm", "mcpu": tvm.target.codegen.llvm_get_system_cpu()})
TILE = "3x12"  # no CPU's default (7x32, 6x16, 4x8)


def run(lib, m, n, k):
    rng = np.random.default_rng(m * n + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    out = tvm.runtime.tensor(np.full((m, n), np.nan, dtype=np.float32))
    lib["func"](tvm.runtime.tensor(a), tvm.runtime.tensor(b), out)
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=2e-4, atol=2e-4 * np.sqrt(k))


@pytest.fixture(scope="module")
def project_a():
    return pytest.importorskip("project_a")


def test_project_a_lists_its_tile_option(project_a):
    option = project_a.extension.config_options["project_a.tile"]
    assert (option.type, option.default) == ("str", "")
    assert "MRxNR" in option.doc


def test_doctor_lists_project_a_tile_option_with_its_type(project_a):
    out = subprocess.run(
        [sys.executable, "-m", "tvm_extend", "doctor"], capture_output=True, text=True, timeout=300
    )
    assert (
        "registers    project_a.tile (pass config str, default ''): the micro-kernel's tile"
        in out.stdout
    ), out.stdout + out.stderr


def test_project_a_tile_option_sets_the_schedule_and_the_kernel_matches_numpy(project_a):
    func = matmul(48, 72, 40)
    bound = tvm.tirx.transform.BindTarget(TARGET)(tvm.IRModule({"main": func}))
    default = project_a.AutoSchedule()(bound)
    cpu_nc = project_a.default_tile(TARGET)[2]
    compiled = []  # what the pass made inside tvm.compile's default pipeline

    @tvm.instrument.pass_instrument
    class AfterAutoSchedule:
        def run_after_pass(self, mod, info):
            if info.name == "project_a.transform.AutoSchedule":
                compiled.append(mod)

    config = {"project_a.tile": TILE}
    with tvm.transform.PassContext(config=config, instruments=[AfterAutoSchedule()]):
        assert project_a.default_tile(TARGET) == (3, 12, cpu_nc)
        chosen = project_a.AutoSchedule()(bound)
        compiled.clear()
        lib = tvm.compile(func, target=TARGET)
    expected = s_tir.Schedule(bound)
    project_a.matmul_microkernel(expected, "C", mr=3, nr=12, nc=cpu_nc)
    layout = project_a.TileLayout(3, 12, cpu_nc, True, "project_a.tile")  # recorded by the pass
    expected_main = expected.mod["main"].with_attr("project_a.tile_layout", layout)
    tvm.ir.assert_structural_equal(chosen, tvm.IRModule({"main": expected_main}))
    assert chosen.script() != default.script()
    script = chosen.script()
    # A and B packed into panels of 3 rows and 12 columns; a 3 x 12 accumulator tile.
    assert "A_global = T.sblock_alloc_buffer((16, 40, 3))" in script
    assert "B_global = T.sblock_alloc_buffer((6, 40, 12))" in script
    assert "for i_1 in T.unroll(3):" in script and "for j_2 in T.vectorized(12):" in script
    assert len(compiled) == 1 and "T.sblock_alloc_buffer((16, 40, 3))" in compiled[0].script()
    run(lib, 48, 72, 40)
    # Unset again: the CPU's tile, as before.
    tvm.ir.assert_structural_equal(project_a.AutoSchedule()(bound), default)


def test_project_a_refuses_a_bad_tile_naming_the_option(project_a):
    bound = tvm.tirx.transform.BindTarget(TARGET)(tvm.IRModule({"main": matmul(16, 16, 16)}))
    with tvm.transform.PassContext(config={"project_a.tile": "6x"}):
        with pytest.raises(ValueError) as info:
            project_a.AutoSchedule()(bound)
    assert (
        "pass project_a.transform.AutoSchedule failed: pass config option project_a.tile is "
        '\'6x\'; expected "MRxNR" or "MRxNRxNC"' in str(info.value)
    )
    with pytest.raises(
        TypeError, match=r"'project_a.tile' \(of extension 'project_a'\) takes a str"
    ):
        tvm.transform.PassContext(config={"project_a.tile": 16})
