"""The generated Relax views (<tvm_extend/ir/relax.h>), the shared `ir.*` part, the Relax
ExprVisitor/ExprMutator, the BlockBuilder and the binding helpers
(tests/extensions/relax_ext.cc)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import tvm
from tvm import relax
from tvm.script import ir as I  # noqa: N812
from tvm.script import relax as R  # noqa: N812

import tvm_extend
from tvm_extend import ir_views

pytestmark = pytest.mark.skipif(
    tvm.__version__.startswith("0.26"),
    reason="the Relax functors and passes are written against TVM 0.27's unified IR",
)


@pytest.fixture(scope="module")
def ext(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "librelax_ext.so"))


@pytest.fixture(scope="module")
def headers(tmp_path_factory):
    out = tmp_path_factory.mktemp("views")
    subprocess.run(
        [sys.executable, "-m", "tvm_extend.ir_views", "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    folder = out / "tvm_extend" / "ir"
    return {name: (folder / f"{name}.h").read_text() for name in ("ir", "tir", "relax")}


def type_keys(text: str) -> set[str]:
    return set(re.findall(r'static constexpr const char\* kTypeKey = "([^"]+)";\n', text))


def test_relax_header_has_a_view_of_every_relax_node_type(headers):
    relax_h = headers["relax"]
    assert "namespace tvm_extend::relax {" in relax_h
    assert "#include <tvm_extend/ir/ir.h>" in relax_h
    for key, fields in {
        "relax.expr.Function": ["params", "body", "ret_ty", "is_pure"],
        "relax.expr.SeqExpr": ["blocks", "body"],
        "relax.expr.BindingBlock": ["bindings"],
        "relax.expr.VarBinding": ["value"],
        "relax.expr.MatchCast": ["value", "ty"],
        "relax.expr.Binding": ["var"],
        "relax.expr.If": ["cond", "true_branch", "false_branch"],
        "relax.expr.ShapeExpr": ["values"],
        "relax.expr.ExternFunc": ["global_symbol"],
        "relax.TensorType": ["shape", "dtype", "ndim"],
        "relax.ShapeType": ["values", "ndim"],
        "relax.FuncType": ["params", "ret", "purity"],
    }.items():
        assert f"class {key.rsplit('.', 1)[-1]} : public" in relax_h, key
        for name in fields:
            assert f'kTypeKey = "{key}"; static constexpr const char* kName = "{name}";' in relax_h
    for key in ("relax.expr.DataflowVar", "relax.expr.DataflowBlock", "relax.AnyType"):
        assert f'kTypeKey = "{key}"; static constexpr const char* kNodeKey' in relax_h, key
    # Discovered by reflection: every registered Relax expression, binding, block and type.
    for key in ir_views.select_relax_types():
        if not ir_views.is_shared(key):
            assert f"struct {ir_views.tag_name(key)} {{ static constexpr" in relax_h, key


def test_shared_ir_types_are_defined_once(headers):
    """ir.Call, ir.Var, ir.Op, ir.GlobalVar, ir.IRModule, ... live in <tvm_extend/ir/ir.h>; tir.h
    and relax.h name them with using-declarations, so one translation unit includes both."""
    ir_h, tir_h, relax_h = headers["ir"], headers["tir"], headers["relax"]
    shared = {"ir.Call", "ir.Var", "ir.Op", "ir.GlobalVar", "ir.IRModule", "ir.Expr", "ir.Type"}
    shared |= {"ir.Tuple", "ir.TupleGetItem", "ir.GenericConst", "ir.PrimType", "ir.BaseFunc"}
    assert shared <= type_keys(ir_h)
    assert not type_keys(ir_h) & type_keys(tir_h)
    assert not type_keys(ir_h) & type_keys(relax_h)
    assert not type_keys(tir_h) & type_keys(relax_h)
    for cls in ("Call", "Var", "IRModule", "Op", "GlobalVar"):
        assert f"using ::tvm_extend::ir::{cls};" in tir_h
        assert f"using ::tvm_extend::ir::{cls};" in relax_h
    # A family's own type of a shared name wins in its namespace: relax::FuncType is Relax's.
    assert "using ::tvm_extend::ir::FuncType;" not in relax_h
    assert "using ::tvm_extend::ir::FuncType;" in tir_h


def test_both_families_compile_in_one_translation_unit(ext):
    """relax_ext.cc includes tir.h and relax.h and asserts tir::Call is relax::Call; it built
    and loads; what it uses binds once per type."""
    keys = [t["key"] for t in ext.uses["types"]]
    assert len(keys) == len(set(keys))
    assert {"relax.expr.Function", "ir.Call", "relax.expr.VarBinding"} <= set(keys)


@I.ir_module
class Nested:
    @R.function
    def main(x: R.Tensor((4,), "float32"), flag: R.Tensor((), "bool")) -> R.Tensor((4,), "float32"):
        a = R.add(x, x)
        b = a
        if flag:
            c = R.multiply(b, b)
            r = c
        else:
            r = R.exp(b)
        with R.dataflow():
            d = R.match_cast(r, R.Tensor((4,), "float32"))
            e = R.add(d, x)
            R.output(e)
        return e


def test_visitor_walks_blocks_bindings_branches_and_calls(ext):
    counts = dict(tvm.get_global_func("relax_ext.count_calls")(Nested["main"]))
    defs = [str(d) for d in counts.pop("defs")]
    assert {k: int(v) for k, v in counts.items()} == {
        "relax.add": 2,
        "relax.multiply": 1,
        "relax.exp": 1,
    }
    # Parameters, then every binding's variable, branches included (If binds `r` in each).
    assert defs[:2] == ["x", "flag"]
    assert {"a", "b", "c", "r", "d", "e"} <= set(defs)


def test_binding_helpers(ext):
    names = [str(n) for n in tvm.get_global_func("relax_ext.binding_names")(Nested["main"])]
    assert names[:2] == ["a", "b"]
    assert "df:d" in names and "df:e" in names and "c" in names
    # b = a: looking b up follows the alias to a's value.
    bound = tvm.get_global_func("relax_ext.bound_value")(Nested["main"], "b")
    tvm.ir.assert_structural_equal(bound, Nested["main"].body.blocks[0].bindings[0].value)


def test_mutator_that_changes_nothing_keeps_every_object(ext):
    assert tvm.get_global_func("relax_ext.identity_same")(Nested["main"])


def test_block_builder_from_cpp(ext):
    @R.function(private=True)
    def expected(x: R.Tensor((4,), "float32")) -> R.Tensor((4,), "float32"):
        with R.dataflow():
            y = R.add(x, x)
            z = R.multiply(y, R.const(3, "float32"))
            R.output(z)
        return z

    built = tvm.get_global_func("relax_ext.build_function")()
    tvm.ir.assert_structural_equal(built, expected)
    relax.analysis.well_formed(tvm.IRModule({"main": built}))
    vm = relax.VirtualMachine(tvm.compile(tvm.IRModule({"main": built}), target="llvm"), tvm.cpu())
    x = np.random.default_rng(0).standard_normal(4).astype("float32")
    np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), (x + x) * 3, rtol=1e-6)


def test_view_of_the_wrong_node_names_both_types(ext):
    with pytest.raises(TypeError, match="expected relax.expr.Function but got ir.IRModule"):
        tvm.get_global_func("relax_ext.count_calls")(Nested)
