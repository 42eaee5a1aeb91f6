"""TVM's Relax dataflow pattern language from C++ (<tvm_extend/ir/relax_pattern.h>, exercised by
tests/extensions/patterns_ext.cc): rewrites checked as TVMScript before/after and against numpy
once compiled, patterns built in C++ against their twins built in Python, the rewriter as a
pass, and the failures (a throwing callback, a result TVM refuses, ill-formed IR)."""

import numpy as np
import pytest
import tvm
import tvm_ffi
from tvm import relax
from tvm.relax.dpl import (
    PatternContext,
    has_dtype,
    is_call_packed,
    is_call_tir,
    is_const,
    is_dfv,
    is_op,
    is_shape,
    is_tuple,
    is_tuple_get_item,
    is_var,
    wildcard,
)
from tvm.script import ir as I
from tvm.script import relax as R
from tvm.script import tirx as T

import tvm_extend


@pytest.fixture(scope="module")
def ext(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libpatterns_ext.so"))


def run(func_or_mod, *arrays):
    """Compile for llvm and run `main` (or the function) on the Relax VM."""
    mod = (
        func_or_mod
        if isinstance(func_or_mod, tvm.IRModule)
        else tvm.IRModule({"main": func_or_mod})
    )
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    return vm["main"](*[tvm.runtime.tensor(a) for a in arrays]).numpy()


rng = np.random.default_rng(0)


# --- 1. rewrite_call: transpose + matmul -> one einsum ------------------------------------------


@R.function(private=True)
def linear(x: R.Tensor((4, 8), "float32"), w: R.Tensor((16, 8), "float32")):
    with R.dataflow():
        wt = R.permute_dims(w)
        y = R.matmul(x, wt)
        z = R.nn.relu(y)
        R.output(z)
    return z


@R.function(private=True)
def linear_fused(x: R.Tensor((4, 8), "float32"), w: R.Tensor((16, 8), "float32")):
    with R.dataflow():
        y = R.einsum((x, w), subscripts="mk,nk->mn")
        z = R.nn.relu(y)
        R.output(z)
    return z


def test_fuse_transpose_matmul(ext):
    after = ext["fuse_transpose_matmul"](linear)
    tvm.ir.assert_structural_equal(after, linear_fused)
    x = rng.standard_normal((4, 8), dtype="float32")
    w = rng.standard_normal((16, 8), dtype="float32")
    np.testing.assert_allclose(run(after, x, w), np.maximum(x @ w.T, 0), rtol=1e-5, atol=1e-5)


@R.function(private=True)
def explicit_axes(x: R.Tensor((4, 8), "float32"), w: R.Tensor((16, 8), "float32")):
    with R.dataflow():
        wt = R.permute_dims(w, axes=[1, 0])
        y = R.matmul(x, wt)
        R.output(y)
    return y


@R.function(private=True)
def explicit_axes_fused(x: R.Tensor((4, 8), "float32"), w: R.Tensor((16, 8), "float32")):
    with R.dataflow():
        y = R.einsum((x, w), subscripts="mk,nk->mn")
        R.output(y)
    return y


def test_fuse_transpose_matmul_either_alternative_of_an_or_pattern(ext):
    # permute_dims(w, axes=None) | permute_dims(w, axes=[1, 0]): the second alternative.
    tvm.ir.assert_structural_equal(ext["fuse_transpose_matmul"](explicit_axes), explicit_axes_fused)


@R.function(private=True)
def batched(x: R.Tensor((8, 4, 16), "float32"), w: R.Tensor((2, 16, 8), "float32")):
    with R.dataflow():
        wt = R.permute_dims(w)  # reverses all three axes: not "mk,nk->mn"
        y = R.matmul(x, wt)
        R.output(y)
    return y


@R.function(private=True)
def identity_axes(x: R.Tensor((4, 8), "float32"), w: R.Tensor((8, 16), "float32")):
    with R.dataflow():
        wt = R.permute_dims(w, axes=[0, 1])
        y = R.matmul(x, wt)
        R.output(y)
    return y


@pytest.mark.parametrize("func", [batched, identity_axes], ids=["3-d", "identity-axes"])
def test_fuse_transpose_matmul_leaves_what_it_must_not_fuse(ext, func):
    # 3-D: the callback returns the match (no change); [0, 1]: the pattern does not match.
    tvm.ir.assert_structural_equal(ext["fuse_transpose_matmul"](func), func)


# --- 2. rewrite_call: add(x, x) -> multiply(x, 2) ---------------------------------------------


def doubled(dtype):
    """add(x, x) + y in `dtype`, before and after add_to_multiply."""
    head = (
        "@R.function(private=True)\n"
        f'def f(x: R.Tensor((8,), "{dtype}"), y: R.Tensor((8,), "{dtype}")):\n'
        "    with R.dataflow():\n"
    )
    tail = "        b = R.add(a, y)\n        R.output(b)\n    return b\n"  # add(a, y) stays
    before = tvm.script.from_source(head + "        a = R.add(x, x)\n" + tail)
    after = tvm.script.from_source(
        head + f'        a = R.multiply(x, R.const(2, "{dtype}"))\n' + tail
    )
    return before, after


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_add_to_multiply(ext, dtype):
    before, expected = doubled(dtype)
    after = ext["add_to_multiply"](before)
    tvm.ir.assert_structural_equal(after, expected)
    x = (rng.standard_normal(8) * 10).astype(dtype)
    y = (rng.standard_normal(8) * 10).astype(dtype)
    np.testing.assert_allclose(run(after, x, y), x + x + y, rtol=1e-6)


# --- 3. rewrite_bindings: three matmuls of one input -> one matmul + split ------------------


@R.function(private=True)
def qkv(
    x: R.Tensor((2, 8), "float32"),
    wq: R.Tensor((8, 6), "float32"),
    wk: R.Tensor((8, 6), "float32"),
    wv: R.Tensor((8, 6), "float32"),
):
    with R.dataflow():
        q = R.matmul(x, wq)
        k = R.matmul(x, wk)
        v = R.matmul(x, wv)
        s = R.add(R.multiply(q, k), v)
        R.output(s)
    return s


@R.function(private=True)
def qkv_merged(
    x: R.Tensor((2, 8), "float32"),
    wq: R.Tensor((8, 6), "float32"),
    wk: R.Tensor((8, 6), "float32"),
    wv: R.Tensor((8, 6), "float32"),
):
    with R.dataflow():
        w = R.concat((wq, wk, wv), axis=1)
        qkv = R.matmul(x, w)
        parts = R.split(qkv, indices_or_sections=3, axis=1)
        q = parts[0]
        k = parts[1]
        v = parts[2]
        s = R.add(R.multiply(q, k), v)
        R.output(s)
    return s


def test_merge_matmuls(ext):
    after = ext["merge_matmuls"](qkv)
    tvm.ir.assert_structural_equal(after, qkv_merged)
    x, wq, wk, wv = (rng.standard_normal(s, dtype="float32") for s in [(2, 8)] + [(8, 6)] * 3)
    expected = (x @ wq) * (x @ wk) + x @ wv
    np.testing.assert_allclose(run(after, x, wq, wk, wv), expected, rtol=1e-5, atol=1e-5)


@R.function(private=True)
def two_matmuls(x: R.Tensor((2, 8), "float32"), wq: R.Tensor((8, 6), "float32")):
    with R.dataflow():
        q = R.matmul(x, wq)
        k = R.matmul(x, wq)
        s = R.add(q, k)
        R.output(s)
    return s


def test_merge_matmuls_needs_all_three(ext):
    tvm.ir.assert_structural_equal(ext["merge_matmuls"](two_matmuls), two_matmuls)


# --- 4. PatternMatchingRewriter: applied to a module, as a pass, from a module -----------------


def module(dtype="float32"):
    before, after = doubled(dtype)
    return tvm.IRModule({"main": before}), tvm.IRModule({"main": after})


def test_rewriter_applied_to_a_module(ext):
    before, expected = module()
    tvm.ir.assert_structural_equal(ext["rewriter_apply"](before), expected)


def test_rewriter_as_a_pass(ext):
    rewrite = ext["rewriter_pass"]()
    assert isinstance(rewrite, tvm.transform.Pass)
    assert rewrite.info.name == "patterns_ext.transform.AddToMultiply"
    before, expected = module()
    with tvm.transform.PassContext(opt_level=3):
        after = tvm.transform.Sequential([rewrite])(before)
    tvm.ir.assert_structural_equal(after, expected)
    x, y = rng.standard_normal(8, dtype="float32"), rng.standard_normal(8, dtype="float32")
    np.testing.assert_allclose(run(after, x, y), 2 * x + y, rtol=1e-6)


@I.ir_module
class RewriteRule:
    @R.function
    def pattern(a: R.Tensor((4,), "float32"), b: R.Tensor((4,), "float32")):
        c = R.add(a, b)
        d = R.multiply(c, b)
        return d

    @R.function
    def replacement(a: R.Tensor((4,), "float32"), b: R.Tensor((4,), "float32")):
        ab = R.multiply(a, b)
        bb = R.multiply(b, b)
        d = R.add(ab, bb)
        return d


@I.ir_module
class RuleTarget:
    @R.function
    def main(x: R.Tensor((4,), "float32"), y: R.Tensor((4,), "float32")):
        s = R.add(x, y)
        t = R.multiply(s, y)
        return t


def test_rewriter_from_module(ext):
    after = ext["rewriter_from_module"](RewriteRule, RuleTarget)
    expected = relax.dpl.PatternMatchingRewriter.from_module(RewriteRule)(RuleTarget)
    tvm.ir.assert_structural_equal(after, expected)
    assert not tvm_ffi.structural_equal(after, RuleTarget)
    x, y = rng.standard_normal(4, dtype="float32"), rng.standard_normal(4, dtype="float32")
    np.testing.assert_allclose(run(after, x, y), (x + y) * y, rtol=1e-5)


# --- 5. patterns built in C++ against their twins built in Python -------------------------------


@I.ir_module
class Catalogue:
    @T.prim_func
    def scale(A: T.Buffer((4, 16), "float32"), B: T.Buffer((4, 16), "float32")):
        for i, j in T.grid(4, 16):
            B[i, j] = A[i, j] * T.float32(2)

    @R.function(pure=False)  # it calls a packed function
    def main(
        x: R.Tensor((4, 8), "float32"),
        w: R.Tensor((16, 8), "float32"),
        h: R.Tensor((4, 8), "float16"),
        hw: R.Tensor((8, 16), "float16"),
    ):
        cls = Catalogue
        with R.dataflow():
            wt = R.permute_dims(w)
            wt2 = R.permute_dims(w, axes=[1, 0])
            y = R.matmul(x, wt)
            y2 = R.matmul(x, wt2)
            y16 = R.matmul(h, hw)
            a = R.add(y, y)
            b = R.add(y, R.const(1.0, "float32"))
            c = R.multiply(a, b)
            d = R.add(a, c)
            t = (a, b)
            u = (R.const(1.0, "float32"), a)
            g1 = t[1]
            g0 = u[0]
            s = R.call_tir(cls.scale, (y,), out_ty=R.Tensor((4, 16), "float32"))
            r = R.reshape(y2, R.shape([4, 16]))
            cat = R.concat((y, a, b), axis=0)
            R.output(c, d, g0, g1, s, r, cat, y16)
        p = R.call_packed("my_packed", x, ty_args=R.Tensor((4, 8), "float32"))
        e = R.add(x, x)
        return (c, d, g0, g1, s, r, cat, y16, p, e)


def python_twin(name):
    """The pattern of patterns_ext.cc's Catalogue(name), built with tvm.relax.dpl."""
    x, y = wildcard(), wildcard()
    if name == "add_xx":
        return {"root": is_op("relax.add")(x, x), "x": x}
    if name == "add_or_multiply":
        return {"root": (is_op("relax.add") | is_op("relax.multiply"))(x, y), "x": x, "y": y}
    if name == "add_const":
        c = is_const()
        return {"root": is_op("relax.add")(x, c), "x": x, "c": c}
    if name == "add_not_const":
        nc = ~is_const()
        return {"root": is_op("relax.add")(nc, y), "nc": nc, "y": y}
    if name == "matmul_and_float32":
        return {"root": is_op("relax.matmul")(x, y) & has_dtype("float32"), "x": x, "y": y}
    if name == "matmul_float16":
        return {"root": is_op("relax.matmul")(x, y).has_dtype("float16"), "x": x}
    if name == "matmul_shape":
        return {"root": is_op("relax.matmul")(x, y).has_shape([4, 16]), "x": x}
    if name == "tuple":
        return {"root": is_tuple([x, y]), "x": x, "y": y}
    if name == "tuple_unordered":
        c = is_const()
        return {"root": is_tuple([c, x], unordered=True), "x": x, "c": c}
    if name == "tuple_get_item":
        return {"root": is_tuple_get_item(x, 1), "x": x}
    if name == "tuple_get_item_any":
        return {"root": is_tuple_get_item(x), "x": x}
    if name == "call_tir":
        return {"root": is_call_tir("scale", [x]), "x": x}
    if name == "call_tir_any":
        return {"root": is_call_tir("scale")}
    if name == "call_packed":
        return {"root": is_call_packed("my_packed")}
    if name == "shape":
        return {"root": is_shape([4, 16])}
    if name == "var_x":
        v = is_var("x")
        return {"root": is_op("relax.add")(v, y), "v": v, "y": y}
    if name == "dataflow_var":
        v = is_dfv()
        return {"root": is_op("relax.add")(v, y), "v": v}
    if name == "permute_axes_none":
        return {"root": is_op("relax.permute_dims")(x).has_attr({"axes": None}), "x": x}
    if name == "varargs":
        return {"root": is_op("relax.concat")(x, varg_default_wildcard=True), "x": x}
    if name == "dup":
        return {"root": is_op("relax.add")(x, y).dup()}
    if name == "not_add":
        return {"root": ~is_op("relax.add")(x, y) & is_op("relax.multiply")(x, y)}
    raise KeyError(name)


CATALOGUE = [
    "add_xx", "add_or_multiply", "add_const", "add_not_const", "matmul_and_float32",
    "matmul_float16", "matmul_shape", "tuple", "tuple_unordered", "tuple_get_item",
    "tuple_get_item_any", "call_tir", "call_tir_any", "call_packed", "shape", "var_x",
    "dataflow_var", "permute_axes_none", "varargs", "dup", "not_add",
]  # fmt: skip


def candidates(func):
    """Every bound value of the function and every argument of those that are calls."""
    out = []
    for block in func.body.blocks:
        for binding in block.bindings:
            out.append(binding.value)
            if isinstance(binding.value, relax.Call):
                out.extend(binding.value.args)
    return out


@pytest.mark.parametrize("name", CATALOGUE)
def test_patterns_match_as_their_python_twins(ext, name):
    func = Catalogue["main"]
    twin = python_twin(name)
    matched = 0
    # with var2val a variable matches what it is bound to; without, only itself
    for var2val in [relax.analysis.get_var2val(func), None]:
        for expr in candidates(func):
            expected = twin["root"].extract_matched_expr(expr, var2val)
            got = ext["match"](name, expr, func if var2val is not None else None)
            assert (got is None) == (expected is None), f"{name} on {expr}"
            if got is None:
                continue
            matched += 1
            for part, pattern in twin.items():
                if pattern in expected:
                    assert got[part].same_as(expected[pattern]), f"{name}: {part} on {expr}"
    assert matched > 0, f"{name} matches nothing in the catalogue: a twin test that cannot fail"


@pytest.mark.parametrize(
    "ty", [R.Tensor((4, 16), "float32"), R.Tensor((4, 8), "float16"), R.Tensor("float32", ndim=2)]
)
def test_type_pattern_matches_as_python(ext, ty):
    func = Catalogue["main"]
    results = []
    for expr in candidates(func):
        expected = wildcard().has_ty(ty).match(expr)
        assert ext["match_type"](ty, expr) == expected, f"{ty} on {expr}"
        results.append(expected)
    assert any(results) and not all(results)


@R.function(private=True)
def only_used(x: R.Tensor((4, 4), "float32"), w: R.Tensor((4, 4), "float32")):
    with R.dataflow():
        a = R.matmul(x, w)
        b = R.add(a, x)
        R.output(b)
    return b


@R.function(private=True)
def used_twice(x: R.Tensor((4, 4), "float32"), w: R.Tensor((4, 4), "float32")):
    with R.dataflow():
        a = R.matmul(x, w)
        b = R.add(a, x)
        c = R.multiply(a, b)
        R.output(c)
    return c


@R.function(private=True)
def not_used(x: R.Tensor((4, 4), "float32"), w: R.Tensor((4, 4), "float32")):
    with R.dataflow():
        a = R.matmul(x, w)
        b = R.add(x, x)
        c = R.multiply(a, b)
        R.output(c)
    return c


@pytest.mark.parametrize("only", [False, True], ids=["used_by", "only_used_by"])
@pytest.mark.parametrize("func", [only_used, used_twice, not_used])
def test_used_by_in_a_dataflow_block_as_python(ext, func, only):
    block = func.body.blocks[0]
    with PatternContext() as ctx:
        mm = is_op("relax.matmul")(wildcard(), wildcard(), add_constraint=False)
        add = is_op("relax.add")(wildcard(), wildcard(), add_constraint=False)
        _ = (mm >> add) if only else (mm ^ add)
    expected = ctx.match_dfb(block)
    got = ext["match_block"](block, only)
    assert (got is None) == (expected is None)
    if expected is not None:
        assert got["matmul"].same_as(expected[mm]) and got["add"].same_as(expected[add])
    # what the three functions are for: used only by the add / also by a multiply / not at all
    assert (got is not None) == (func is only_used or (func is used_twice and not only))


def test_pattern_context_scopes(ext):
    # outside any context, the made one inside its scope, none again after the scope
    assert tuple(ext["context_scopes"]()) == (False, True, False)


# --- 6. what goes wrong, named ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, error, what",
    [
        (0, RuntimeError, r"no replacement for this add \(std::runtime_error\)"),
        (1, ValueError, r"the weights are not packed"),
        (2, RuntimeError, r"it threw a C\+\+ value that is not a std::exception"),
    ],
)
def test_throwing_callback_names_the_rewrite_and_the_match(ext, kind, error, what):
    before, _ = doubled("float32")
    with pytest.raises(error) as info:
        ext["throwing"](before, kind)
    assert str(info.value).startswith(
        "function patterns_ext.throwing failed: rewrite `throwing`: the callback failed on "
        "`R.add(x, x)`: "
    )
    assert info.match(what)
    # the process is fine: the same rewrite works on
    assert ext["add_to_multiply"](before) is not None


def test_unnamed_rewrite_is_named_by_its_place(ext):
    before, _ = doubled("float32")
    with pytest.raises(RuntimeError, match=r"rewrite `patterns_ext\.cc:\d+`: the callback failed"):
        ext["unnamed"](before)


def test_ill_formed_result_is_caught_by_well_formed(ext):
    before, _ = doubled("float32")
    with pytest.raises(ValueError) as info:
        ext["unbound_var"](before)
    assert info.match(
        r"function patterns_ext\.unbound_var failed: rewrite `unbound_var` produced ill-formed IR "
        r"\(relax\.analysis\.well_formed\): Var ghost is not defined"
    )
    assert "already ill-formed" not in str(info.value)


def test_ill_typed_result_is_refused_by_tvm_and_named(ext):
    @R.function
    def mats(x: R.Tensor((4, 8), "float32"), y: R.Tensor((4, 8), "float32")):
        z = R.add(x, y)
        return z

    with pytest.raises(ValueError, match=r"rewrite `ill_typed` failed: .*[Mm]atmul"):
        ext["ill_typed"](mats)


def test_ill_formed_result_of_a_pass_names_the_pass_and_the_rules(ext):
    before, _ = module()
    with pytest.raises(ValueError) as info:
        ext["ill_formed_pass"]()(before)
    assert info.match(
        r"pass patterns_ext\.transform\.IllFormed failed: rewrite "
        r"`add_to_multiply_rule \| unbound_var_rule` produced ill-formed IR .*ghost"
    )


def test_rewrite_that_never_converges_is_stopped_and_named(ext):
    @R.function(private=True)
    def product(x: R.Tensor((8,), "float32"), y: R.Tensor((8,), "float32")):
        z = R.multiply(x, y)
        return z

    # multiply(x, y) -> multiply(y, x) matches again, forever; its limit is 1000 callbacks
    with pytest.raises(
        RuntimeError,
        match=r"rewrite `swap_forever` does not converge: its "
        r"callback ran 1000 times \(RewriteOptions::max_callbacks\)",
    ):
        ext["never_converges"](product)
