"""BYOC codegens from C++ (tests/extensions/relax_ops.cc): `relax.ext.relaxops_cg`, claimed by the
extension, with its pattern table in TVM's; FuseOpsByPattern + RunCodegen + tvm.compile + the VM
against numpy; a codegen that fails names the codegen and the function; a second claim of the
name is refused naming both owners; unload takes the codegen and its patterns back."""

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm import relax
from tvm.script import relax as R

import tvm_extend
from conftest import needs_relax_027, run_python
from tvm_extend.relax_op import patterns

pytestmark = needs_relax_027


@pytest.fixture(scope="module")
def ext(relax_ops_extension):
    return relax_ops_extension


def offload(mod: tvm.IRModule, codegen: str) -> tvm.IRModule:
    mod = relax.transform.FuseOpsByPattern(patterns(codegen), annotate_codegen=True)(mod)
    return relax.transform.RunCodegen()(mod)


@R.function
def matmul_add(
    a: R.Tensor((16, 32), "float32"),
    b: R.Tensor((32, 8), "float32"),
    c: R.Tensor((16, 8), "float32"),
):
    with R.dataflow():
        d = R.matmul(a, b)
        e = R.add(d, c)
        R.output(e)
    return e


def matmul_add_module() -> tvm.IRModule:
    return tvm.IRModule({"main": matmul_add.with_attr("global_symbol", "main")})


def test_the_codegen_and_its_patterns_are_registered(ext):
    assert ext.codegens == ["relaxops_cg", "relaxops_bad"]
    assert [r.kind for r in ext.registrations if r.name.startswith("relax.ext.")] == ["codegen"] * 2
    assert tvm_extend.describe_owner("relax.ext.relaxops_cg").startswith("extension 'relaxops'")
    assert [p.name for p in patterns("relaxops_cg")] == ["relaxops_cg.matmul"]
    # In the order the spec declares them (TVM's table answers the newest first).
    assert [p.name for p in patterns("relaxops_bad")] == [
        "relaxops_bad.add",
        "relaxops_bad.multiply",
    ]


def test_matmul_offloaded_compiled_and_run_against_numpy(ext):
    mod = offload(matmul_add_module(), "relaxops_cg")
    calls = [b.value for b in mod["main"].body.blocks[0].bindings]
    assert calls[0].op.name == "relax.call_dps_packed"
    assert calls[0].args[0].global_symbol == "fused_relax_matmul_relaxops_cg"
    assert calls[1].op.name == "relax.add"  # not in the pattern table: TVM's
    (module,) = mod.attrs["external_mods"]
    assert module.implements_function("fused_relax_matmul_relaxops_cg")

    ex = tvm.compile(mod, target="llvm")
    vm = relax.VirtualMachine(ex, tvm.cpu())
    rng = np.random.default_rng(1)
    a, b, c = (rng.standard_normal(s).astype("float32") for s in ((16, 32), (32, 8), (16, 8)))
    got = vm["main"](*(tvm.runtime.tensor(v) for v in (a, b, c))).numpy()
    np.testing.assert_allclose(got, a @ b + c, rtol=1e-5, atol=1e-5)


def test_the_check_function_keeps_what_the_codegen_does_not_take(ext):
    @R.function
    def int_matmul(a: R.Tensor((4, 4), "int32"), b: R.Tensor((4, 4), "int32")):
        with R.dataflow():
            d = R.matmul(a, b)
            R.output(d)
        return d

    mod = relax.transform.FuseOpsByPattern(patterns("relaxops_cg"), annotate_codegen=True)(
        tvm.IRModule({"main": int_matmul})
    )
    tvm.ir.assert_structural_equal(mod["main"], int_matmul)


def test_a_failing_codegen_names_the_codegen_and_the_function(ext):
    with pytest.raises(RuntimeError) as info:
        offload(matmul_add_module(), "relaxops_bad")
    message = str(info.value)
    assert message.startswith("codegen relax.ext.relaxops_bad of extension 'relaxops' 1.0.0 ("), (
        message
    )
    assert (
        "failed for function 'fused_relax_add_relaxops_bad': relaxops_bad has no kernel for an "
        "add (std::invalid_argument)"
    ) in message


def test_a_module_without_the_functions_symbol_is_refused(ext):
    @R.function
    def mul(a: R.Tensor((4,), "float32"), b: R.Tensor((4,), "float32")):
        with R.dataflow():
            d = R.multiply(a, b)
            R.output(d)
        return d

    with pytest.raises(RuntimeError) as info:
        offload(tvm.IRModule({"main": mul}), "relaxops_bad")
    assert (
        "failed for function 'fused_relax_multiply_relaxops_bad': the module it returned has no "
        "function 'fused_relax_multiply_relaxops_bad'"
    ) in str(info.value)


def test_a_second_claim_of_the_codegen_is_refused_naming_both_owners(ext, test_extensions):
    with pytest.raises(tvm_extend.DuplicateRegistrationError) as info:
        tvm_extend.load_extension(str(test_extensions / "librelaxcg_clash.so"))
    message = str(info.value)
    assert (
        "the codegen 'relax.ext.relaxops_cg' is already registered by extension 'relaxops' 1.0.0 ("
    ) in message
    assert "librelax_ops.so" in message
    assert "extension 'relaxcg_clash' 1.0.0 (" in message and "claims it again at " in message
    assert "relax_clash.cc:" in message
    assert tvm_ffi.get_global_func("relaxcg_clash.one", allow_missing=True) is None
    assert tvm_extend.describe_owner("relax.ext.relaxops_cg").startswith("extension 'relaxops'")


def test_a_codegen_name_with_a_dot_is_refused(test_extensions):
    with pytest.raises(
        tvm_extend.ExtensionLoadError,
        match=r"'relax\.ext\.relaxdotted\.cg'.*"
        r"is not named relax\.ext\.<name> with a name without dots",
    ):
        tvm_extend.load_extension(str(test_extensions / "librelaxdotted.so"))


def test_patterns_registered_outside_refuse_the_codegen(test_extensions):
    # A fresh process: Python registers a pattern of the codegen before the extension loads.
    result = run_python(
        f"""
        import tvm, tvm_extend
        from tvm.relax.dpl import is_op, wildcard
        from tvm.relax.backend.pattern_registry import register_patterns
        register_patterns([("relaxops_cg.mine", is_op("relax.add")(wildcard(), wildcard()))])
        try:
            tvm_extend.load_extension("{test_extensions / "librelax_ops.so"}")
        except tvm_extend.DuplicateRegistrationError as err:
            print("REFUSED", err)
        print("CODEGEN", tvm.get_global_func("relax.ext.relaxops_cg", allow_missing=True))
        """
    )
    assert result.returncode == 0, result.stderr
    assert (
        "REFUSED cannot load extension 'relaxops' 1.0.0" in result.stdout
        and "TVM's pattern table already has patterns of the codegen 'relaxops_cg' "
        "('relaxops_cg.mine')"
        in result.stdout
    ), result.stdout
    assert "CODEGEN None" in result.stdout


def test_reload_keeps_one_codegen_and_unload_takes_it_back(ext):
    tvm_extend.reload_extension("relaxops")
    assert [p.name for p in patterns("relaxops_cg")] == ["relaxops_cg.matmul"]
    annotated = relax.transform.FuseOpsByPattern(patterns("relaxops_cg"), annotate_codegen=True)(
        matmul_add_module()
    )
    tvm_extend.unload_extension("relaxops")
    try:
        assert tvm_ffi.get_global_func("relax.ext.relaxops_cg", allow_missing=True) is None
        assert patterns("relaxops_cg") == [] and patterns("relaxops_bad") == []
        with pytest.raises(Exception, match="Codegen is not found: relax.ext.relaxops_cg"):
            relax.transform.RunCodegen()(annotated)
    finally:
        tvm_extend.load_extension(ext.path)
    assert [p.name for p in patterns("relaxops_cg")] == ["relaxops_cg.matmul"]
    assert relax.transform.RunCodegen()(annotated).attrs["external_mods"]
