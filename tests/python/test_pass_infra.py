"""TVM's pass infrastructure for kit passes (tests/extensions/infra_ext.cc), each piece against
TVM's Python equivalent: the analyzer, the analyzer-aware visitor and mutator, Substitute /
UsesVar / ExprDeepEqual, builtin op handles, op attributes, DataType helpers, function
attributes and GlobalFunction<Any(...)>."""

import re

import numpy as np
import pytest
import tvm
from tvm.script import tirx as T

import tvm_extend
from conftest import tvm_attr, tvm_op

# TVM 0.27's names for what the tests compare against, in the running TVM (0.26: tvm.arith, ...).
Analyzer = tvm_attr("tvm.sym.Analyzer")
IntervalSet = tvm_attr("tvm.sym.IntervalSet")
expr_deep_equal = tvm_attr("tvm.ir.prim.expr_deep_equal")


@pytest.fixture(scope="module")
def infra(test_extensions):
    return tvm_extend.load_extension(str(test_extensions / "libinfra_ext.so"))


x = tvm.tirx.Var("x", "int32")
y = tvm.tirx.Var("y", "int32")


# --- 1. the analyzer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr", [x * 8 + 3, (x * 4 + 2) * 6, x * 6 + y * 9 + 1, x, tvm.tirx.const(7)]
)
def test_modular_set_matches_tvm(infra, expr):
    m = Analyzer().modular_set(expr)
    assert tuple(infra["modular_set"](expr)) == (m.coeff, m.base)


@pytest.mark.parametrize(
    "a, b", [(x * 2 + x, x * 3), (x, y), ((x + 2) * 3, x * 3 + 6), (x // 4 * 4 + x % 4, x)]
)
def test_can_prove_equal_matches_tvm(infra, a, b):
    assert infra["can_prove_equal"](a, b) == Analyzer().can_prove_equal(a, b)


@pytest.mark.parametrize(
    "expr", [x * (y + 1) - x * y, (x * 4 + y * 8) // 4, (x + y) - x, tvm.tirx.min(x, x + 1)]
)
def test_rewrite_and_canonical_simplify_match_tvm(infra, expr):
    # The first two expressions come out differently from the two simplifiers, so a mix-up
    # between them fails here.
    analyzer = Analyzer()
    tvm.ir.assert_structural_equal(infra["rewrite_simplify"](expr), analyzer.rewrite_simplify(expr))
    tvm.ir.assert_structural_equal(
        infra["canonical_simplify"](expr), analyzer.canonical_simplify(expr)
    )


def test_eval_set_matches_tvm_int_set(infra):
    n = tvm.tirx.Var("n", "int32")
    cases = [
        (x * 2 + y, [x, y], [tvm.ir.Range(0, 4), tvm.ir.Range(1, 3)]),
        (x - y, [x, y], [tvm.ir.Range(0, 4), tvm.ir.Range(1, 3)]),
        (x * 4 + 1, [x], [tvm.ir.Range.from_min_extent(0, n)]),  # symbolic: max is 4n - 3
    ]
    for expr, variables, ranges in cases:
        dom = {
            v: IntervalSet(r.min, r.min + r.extent - 1)
            for v, r in zip(variables, ranges, strict=True)
        }
        expected = Analyzer().int_set(expr, dom)
        lo, hi = infra["eval_set"](expr, variables, ranges)
        analyzer = Analyzer()
        assert analyzer.can_prove_equal(lo, expected.min_value), (expr, lo, expected)
        assert analyzer.can_prove_equal(hi, expected.max_value), (expr, hi, expected)
    assert tuple(int(v) for v in infra["eval_set"](x * 2 + y, [x, y], cases[0][2])) == (1, 8)


def test_constraint_scopes_nest_and_end_like_tvm(infra):
    analyzer = Analyzer()
    expected = []
    with analyzer.constraint_scope(tvm.tirx.floormod(x, 4) == 0):
        m = analyzer.modular_set(x)
        expected += [m.coeff, m.base]
        with analyzer.constraint_scope(tvm.tirx.all(x < 10, 0 <= x)):
            m = analyzer.modular_set(x)
            b = analyzer.const_int_bound(x)
            expected += [m.coeff, m.base, b.min_value, b.max_value]
    m = analyzer.modular_set(x)
    expected += [m.coeff, m.base]
    got = list(infra["constraint_scopes"](x))
    assert got == expected
    assert got[:2] == [4, 0] and got[-2:] == [1, 0]  # in force inside, gone after


def test_a_moved_constraint_scope_ends_with_its_new_owner(infra):
    assert tuple(infra["moved_scope"](x)) == (True, False)


def test_analyzer_rejects_a_statement_where_an_expression_belongs(infra):
    with pytest.raises(TypeError, match="expected ir.Expr but got tirx.SeqStmt"):
        infra["modular_set"](folds_known_conditions.body)


# --- 2. the analyzer-aware mutator and visitor ------------------------------------------------


@T.prim_func
def folds_known_conditions(A: T.Buffer((16,), "int32"), n: T.int32):
    for i in range(16):
        if i < 20:  # always true inside the loop: only the then branch stays
            A[i] = T.if_then_else(i < 16, 1, 2)
        else:
            A[i] = 3
    for i in range(16):
        if i < 8:  # unknown: both branches stay, each folded under its own condition
            A[i] = T.if_then_else(i < 10, 4, 5)
        else:
            A[i] = T.Select(i >= 8, 6, 7)
    for i in range(16):
        if T.likely(i >= 16):  # false: the else branch stays (`likely` looks through)
            A[i] = 8
        else:
            A[i] = 9
    for i in range(16):
        if i > 100:  # false and no else: evaluate(0), as TVM leaves it
            A[i] = 10
    for i in range(4):
        assert n < 4, "small"
        A[i] = T.Select(n < 5, 11, 12)  # the assert holds for the rest of the loop body
    A[0] = T.Select(n < 5, 13, 14)  # ... and not after it
    x = T.bind(n * 0 + 3)
    A[1] = T.Select(x == 3, 15, 16)  # the bound value is known


@T.prim_func
def folded(A: T.Buffer((16,), "int32"), n: T.int32):
    for i in range(16):
        A[i] = 1
    for i in range(16):
        if i < 8:
            A[i] = 4
        else:
            A[i] = 6
    for i in range(16):
        A[i] = 9
    for _i in range(16):
        T.evaluate(0)
    for i in range(4):
        assert n < 4, "small"
        A[i] = 11
    A[0] = T.Select(n < 5, 13, 14)
    _x = T.bind(n * 0 + 3)
    A[1] = 15


def test_mutator_with_analyzer_binds_constrains_and_folds(infra):
    after = infra["mutate_with_analyzer"](folds_known_conditions)
    tvm.ir.assert_structural_equal(
        after, folded.with_attr("global_symbol", "folds_known_conditions")
    )


def test_mutator_with_analyzer_keeps_what_it_does_not_fold(infra):
    after = infra["mutate_with_analyzer"](folded)
    assert after.same_as(folded)


def test_mutator_with_analyzer_binds_let_variables(infra):
    @T.prim_func
    def f(A: T.Buffer((16,), "int32")):
        for i in range(16):
            A[i] = 0

    loop, v = f.body, tvm.tirx.Var("v", "int32")

    def with_value(value):
        store = tvm.tirx.BufferStore(loop.body.buffer, value, loop.body.indices)
        return f.with_body(tvm.tirx.For(loop.loop_var, 0, 16, tvm.tirx.ForKind.SERIAL, store))

    i = loop.loop_var
    before = with_value(tvm.tirx.Let(v, i * 2, tvm.tirx.Select(v < 32, v, 0)))
    after = infra["mutate_with_analyzer"](before)
    tvm.ir.assert_structural_equal(after, with_value(tvm.tirx.Let(v, i * 2, v)))


@T.prim_func
def to_simplify(A: T.Buffer((16,), "int32"), n: T.int32):
    for i in range(16):
        A[i] = (i * 2 + 4) // 2 - i + n * 0
    for i in range(16):
        if i < 4:
            A[i] = T.min(i, 8) + T.max(i, 3)
    for j in range(8):
        A[j * 2] = (j * 2) % 16 + T.Select(j < 8, 1, 0)


def test_a_simplify_written_on_the_mutator_matches_tvms_stmt_simplify(infra):
    expected = tvm.tirx.transform.StmtSimplify()(tvm.IRModule({"to_simplify": to_simplify}))
    after = infra["simplify_with_analyzer"](to_simplify)
    tvm.ir.assert_structural_equal(after, expected["to_simplify"])


def test_the_mutator_as_a_pass_compiles_and_computes_the_same(infra):
    @T.prim_func
    def kernel(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32")):
        for i in range(16):
            if i < 8:
                B[i] = A[T.min(i, 15)] * ((i * 2 + 4) // 2 - i) + T.if_then_else(i < 12, 1, 0)
            else:
                B[i] = A[i] + T.Select(i >= 8, 100, -100)

    mod = tvm.IRModule({"main": kernel})
    after = infra["transform.SimplifyWithAnalyzer"]()(mod)
    assert "if_then_else" not in after["main"].script() and "Select" not in after["main"].script()
    a = np.arange(16, dtype="int32")
    b = tvm.runtime.tensor(np.zeros(16, "int32"))
    tvm.compile(after, target="llvm")["main"](tvm.runtime.tensor(a), b)
    expected = np.where(np.arange(16) < 8, a * 2 + 1, a + 100)
    np.testing.assert_array_equal(b.numpy(), expected)


@T.prim_func
def bounds_program(A: T.Buffer((64,), "int32"), n: T.int32):
    for i in range(16):
        if i < 8:
            A[i] = 0
        else:
            A[i] = 1
    for i in range(16):
        x = T.bind(i * 2)
        A[x] = 2
    assert 0 <= n and n < 4, "n"
    A[n] = 3
    for tx in T.thread_binding(32, thread="threadIdx.x"):
        A[tx * 2] = 4
    for i in range(4, 12):  # bound to [min, min + extent), not [min, extent)
        A[i] = 6
    v = T.bind(T.min(T.max(A[0], 0), 3))  # reads memory: not bound, nothing known about v
    A[v] = 5


@T.prim_func(s_tir=True)
def block_program(A: T.Buffer((16,), "int32")):
    for i in range(16):
        with T.sblock("B"):
            vi = T.axis.spatial(16, i)
            A[vi] = 1


def test_visitor_with_analyzer_sees_ranges_constraints_and_bindings(infra):
    bounds = [tuple(b) for b in infra["store_index_bounds"](bounds_program)]
    assert bounds == [(0, 7), (8, 15), (0, 30), (0, 3), (0, 62), (4, 11), (-(2**31), 2**31 - 1)]
    # The same facts through TVM's Python analyzer, for the first store.
    analyzer = Analyzer()
    i = tvm.tirx.Var("i", "int32")
    analyzer.bind(i, tvm.ir.Range(0, 16))
    with analyzer.constraint_scope(i < 8):
        b = analyzer.const_int_bound(i)
        assert (b.min_value, b.max_value) == bounds[0]


def test_visitor_with_analyzer_binds_block_iteration_variables(infra):
    assert [tuple(b) for b in infra["store_index_bounds"](block_program)] == [(0, 15)]


# --- 3. Substitute, UsesVar, ExprDeepEqual ---------------------------------------------------


def test_substitute_in_an_expression(infra):
    out = infra["substitute"](x * 2 + x, [x], [y + 1])
    tvm.ir.assert_structural_equal(out, (y + 1) * 2 + (y + 1))
    # Simultaneous, not sequential: x -> y and y -> x swap.
    tvm.ir.assert_structural_equal(infra["substitute"](x - y, [x, y], [y, x]), y - x)


@T.prim_func
def uses_n(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32"), n: T.int32):
    for i in range(16):
        A[i] = B[i] + n
    assert n > 0, "n"


def test_substitute_in_statements_and_buffers(infra):
    A, B, n = uses_n.params

    @T.prim_func
    def expected(A: T.Buffer((16,), "int32"), B: T.Buffer((16,), "int32"), n: T.int32):
        for i in range(16):
            B[i] = A[i] + (n + 1)
        assert n + 1 > 0, "n"

    after = infra["substitute"](uses_n, [n, A, B], [n + 1, B, A])
    tvm.ir.assert_structural_equal(after, expected.with_attr("global_symbol", "uses_n"))


def test_substitute_returns_the_same_objects_when_nothing_matches(infra):
    assert infra["substitute"](uses_n.body, [x], [y]).same_as(uses_n.body)
    e = x * 2 + 1
    assert infra["substitute"](e, [y], [x]).same_as(e)


def test_substitute_errors(infra):
    A, _, n = uses_n.params
    with pytest.raises(TypeError, match="expected ir.Var"):
        infra["substitute"](uses_n.body, [A], [n + 1])  # a store's buffer must stay a Var
    with pytest.raises(TypeError, match="expected ir.Expr but got ir.Range"):
        infra["substitute"](tvm.ir.Range(0, 4), [x], [y])


def test_uses_var(infra):
    A, B, n = uses_n.params
    loop = uses_n.body.seq[0]
    assert infra["uses_var"](uses_n.body, [n])
    assert infra["uses_var"](loop, [A])  # a store's buffer is a use
    assert infra["uses_var"](loop, [B])
    assert not infra["uses_var"](loop, [x, y])
    assert infra["uses_var"](x * 2 + y, [y])
    assert not infra["uses_var"](x * 2 + 1, [y])
    assert infra["uses_var"](x * 2 + 1, [y, x])
    # Agrees with TVM's UndefinedVars on what a statement uses.
    for v in (A, B, n, x):
        uses = any(v.same_as(u) for u in tvm.tirx.analysis.undefined_vars(loop))
        assert infra["uses_var"](loop, [v]) == uses


@pytest.mark.parametrize(
    "a, b",
    [
        (x + 1, x + 1),
        (x + 1, y + 1),
        (x + 1, 1 + x),
        (tvm.tirx.const(3), tvm.tirx.const(3, "int64")),
    ],
)
def test_expr_deep_equal_matches_tvm(infra, a, b):
    assert infra["expr_deep_equal"](a, b) == expr_deep_equal(a, b)


def test_expr_deep_equal_compares_variables_by_identity(infra):
    assert infra["expr_deep_equal"](x + 1, x + 1)
    assert not infra["expr_deep_equal"](x + 1, tvm.tirx.Var("x", "int32") + 1)


# --- 4. builtin ops ---------------------------------------------------------------------------


def test_builtin_calls_match_pythons(infra):
    tvm.ir.assert_structural_equal(infra["make_likely"](x < 3), tvm.tirx.likely(x < 3))
    f = tvm.tirx.Var("f", "float32")
    tvm.ir.assert_structural_equal(
        infra["make_call"]("int32", "tirx.reinterpret", [f]),
        tvm.tirx.call_intrin("int32", "tirx.reinterpret", f),
    )
    tvm.ir.assert_structural_equal(
        infra["make_call"]("int32", "prim.if_then_else", [x < 1, x, y]),
        tvm.tirx.if_then_else(x < 1, x, y),
    )


def test_is_op_tells_builtins_apart(infra):
    assert infra["which_builtin"](tvm.tirx.if_then_else(x < 1, x, y)) == "if_then_else"
    assert infra["which_builtin"](tvm.tirx.likely(x < 3)) == "likely"
    assert infra["which_builtin"](tvm.tirx.call_extern("int32", "f", x)) == "call_extern"
    assert infra["which_builtin"](tvm.tirx.call_intrin("int32", "tirx.popcount", x)) == "popcount"
    assert infra["which_builtin"](tvm.tirx.call_intrin("int32", tvm_op("prim.clz"), x)) == ""
    assert infra["which_builtin"](x + 1) == ""


def test_get_op_tries_each_spelling(infra):
    likely = tvm.ir.Op.get(tvm_op("prim.likely"))
    assert infra["get_op"](["tir.likely", "prim.likely"]).same_as(likely)
    # Either release's name finds the running release's op (the kit's op rename table).
    assert infra["get_op"](["prim.likely"]).same_as(likely)
    assert infra["get_op"](["tirx.likely"]).same_as(likely)
    with pytest.raises(ValueError, match="has no op `nope.x`, `tir.nope`"):
        infra["get_op"](["nope.x", "tir.nope"])


# --- 5. op attributes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op, key",
    [
        ("prim.likely", "TVectorizable"),
        ("prim.likely", "TCallEffectKind"),
        ("tirx.call_extern", "TCallEffectKind"),
        ("tirx.assume", "TCallEffectKind"),
        ("tirx.call_extern", "TVectorizable"),
    ],
)
def test_op_attributes_match_tvm(infra, op, key):
    assert infra["op_attr"](op, key) == tvm.ir.Op.get(tvm_op(op)).get_attr(key)


def test_op_attributes_absent(infra):
    # TVM's Python raises for an attribute no op has; the kit answers None (and -1 here).
    assert infra["op_attr"]("prim.likely", "NoSuchAttribute") is None
    assert infra["op_int_attr"]("prim.likely", "NoSuchAttribute") == -1
    assert infra["op_int_attr"]("tirx.call_extern", "TCallEffectKind") == 3
    with pytest.raises(ValueError, match="has no op `no.such_op`"):
        infra["op_attr"]("no.such_op", "TCallEffectKind")


def test_side_effect_from_op_attributes(infra):
    assert infra["side_effect"](x + 1) == 0  # kExprAnnotation: nothing at all
    assert infra["side_effect"](tvm.tirx.if_then_else(x < 1, x, y)) == 1  # kPure
    assert infra["side_effect"](tvm.tirx.call_extern("int32", "f", x)) == 3  # kUpdateState
    load = uses_n.body.seq[0].body.value.a  # B[i]
    assert infra["side_effect"](load) == 2  # kReadState


# --- 6. DataType ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["int32", "uint8", "int64x8", "float16x4", "float32", "bfloat16", "bool", "handle", "uint1"],
)
def test_dtype_helpers_match_tvm_datatype(infra, name):
    t = tvm.DataType(name)
    info = infra["dtype_info"](name)
    assert info["bits"] == t.bits
    assert info["lanes"] == t.lanes
    assert info["name"] == str(t)
    assert info["is_int"] == (t.type_code == tvm.DataTypeCode.INT)
    assert info["is_uint"] == (t.type_code == tvm.DataTypeCode.UINT)
    assert info["is_float"] == t.is_float
    assert info["is_bool"] == (t.is_bool or (t.type_code == tvm.DataTypeCode.UINT and t.bits == 1))
    assert info["is_handle"] == t.is_handle
    assert info["is_vector"] == (t.lanes > 1)
    assert info["is_scalar"] == (t.lanes == 1)
    assert info["element_of"] == str(t.with_lanes(1))
    assert info["with_lanes_4"] == str(t.with_lanes(4))
    with_bits = tvm.DataType.from_dlpack_data_type((t.type_code, 16, t.lanes))
    assert info["with_bits_16"] == str(with_bits)


def test_dtype_names_round_trip_and_bad_names_fail(infra):
    for name in ["int32", "float16x4", "bool", "float8_e4m3fn"]:
        assert infra["dtype_round_trip"](name) == str(tvm.DataType(name))
    with pytest.raises(ValueError, match="flot32"):
        infra["dtype_round_trip"]("flot32")


# --- 7. function attributes -------------------------------------------------------------------


def test_with_attr_matches_tvm_and_leaves_the_original(infra):
    func = uses_n
    out, unchanged = infra["with_attr"](func, "tirx.noalias", True)
    tvm.ir.assert_structural_equal(out, func.with_attr("tirx.noalias", True))
    assert unchanged and "tirx.noalias" not in func.attrs
    out2, unchanged = infra["with_attr"](out, "tirx.noalias", False)
    assert unchanged and bool(out.attrs["tirx.noalias"]) and not bool(out2.attrs["tirx.noalias"])
    tvm.ir.assert_structural_equal(
        infra["without_attr"](out, "tirx.noalias"), out.without_attr("tirx.noalias")
    )


def test_get_attr(infra):
    func = uses_n.with_attr("answer", 42)
    assert infra["get_attr"](func, "global_symbol") == "uses_n"
    assert infra["get_attr"](func, "missing") is None
    assert infra["get_int_attr"](func, "answer") == 42
    assert infra["get_int_attr"](func, "missing") == -1
    with pytest.raises(TypeError, match="Cannot convert from type `ffi.SmallStr` to `int`"):
        infra["get_int_attr"](func, "global_symbol")
    with pytest.raises(TypeError, match="expected ir.BaseFunc but got"):
        infra["get_attr"](x + 1, "global_symbol")


# --- 8. GlobalFunction<Any(...)> ----------------------------------------------------------------


def test_global_function_returning_any(infra):
    out = infra["any_return"](x * 8 + 3)
    expected = Analyzer().modular_set(x * 8 + 3)
    assert isinstance(out, type(expected))
    assert (out.coeff, out.base) == (expected.coeff, expected.base)


# --- bad input: a clear error, never a crash (TVM itself crashes on some null arguments) -----


@pytest.mark.parametrize(
    "name, args, message",
    [
        ("modular_set", (None,), "ArithAnalyzer::ModularSetOf got a null ir.Expr"),
        ("can_prove_equal", (x, None), "ArithAnalyzer::CanProveEqual got a null ir.Expr"),
        ("rewrite_simplify", (None,), "ArithAnalyzer::RewriteSimplify got a null ir.Expr"),
        ("canonical_simplify", (None,), "ArithAnalyzer::CanonicalSimplify got a null ir.Expr"),
        ("eval_set", (x, [x], [None]), "ArithAnalyzer::EvalSet got a null ir.Range"),
        ("eval_set", (x, [x], []), "1 vars but 0 ranges"),
        ("constrain_once", (None,), "ArithAnalyzer::Constrain got a null ir.Expr"),
        ("constraint_scopes", (None,), "a TIR operator got a null operand"),
        (
            "make_call",
            ("int32", "prim.likely", [None]),
            f"argument 0 of `{tvm_op('prim.likely')}` is null",
        ),
        ("with_attr", (None, "a", 1), "null `ir.BaseFunc`"),
        ("mutate_with_analyzer", (None,), "null `tirx.PrimFunc`"),
    ],
)
def test_null_inputs_give_clear_errors(infra, name, args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        infra[name](*args)


def test_wrong_types_give_clear_errors(infra):
    with pytest.raises(TypeError, match="expected ir.Expr but got tirx.SeqStmt"):
        infra["constrain_once"](uses_n.body)
    # A PrimFunc is an ir.Expr in 0.27; TVM's own signature check refuses it.
    with pytest.raises(TypeError, match="Expected `ir.Expr` but got `tirx.PrimFunc`"):
        infra["constrain_once"](uses_n)
    with pytest.raises(TypeError, match="expected tirx.PrimFunc but got"):
        infra["store_index_bounds"](x + 1)
    with pytest.raises(TypeError, match="expected ir.Var but got"):
        infra["uses_var"](x + 1, [x + 1])
