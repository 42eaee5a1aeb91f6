"""A generator of random TIR programs, for checking out-of-tree passes against TVM's own."""

from __future__ import annotations

import random

from tvm import tirx

SERIAL, UNROLLED = tirx.ForKind.SERIAL, tirx.ForKind.UNROLLED


def random_program(seed: int, size: int = 64):
    rng = random.Random(seed)
    a = tirx.decl_buffer((size,), "int32", "A")
    b = tirx.decl_buffer((size,), "int32", "B")
    counter = [0]

    def index(loop_vars):
        expr = tirx.const(rng.randrange(size), "int32")
        for v in rng.sample(loop_vars, k=min(len(loop_vars), rng.randint(0, 2))):
            expr = expr + v * rng.randint(1, 3)
        return tirx.floormod(expr, size)

    def value(loop_vars):
        expr = tirx.BufferLoad(a, [index(loop_vars)]) * rng.randint(1, 4)
        if loop_vars and rng.random() < 0.7:
            expr = expr + rng.choice(loop_vars)
        return expr

    def stmt(depth, loop_vars):
        roll = rng.random()
        if depth >= 4 or roll < 0.3:
            return tirx.BufferStore(b, value(loop_vars), [index(loop_vars)])
        if roll < 0.75:
            counter[0] += 1
            var = tirx.Var(f"i{counter[0]}", "int32")
            kind = UNROLLED if rng.random() < 0.6 else SERIAL
            body = stmt(depth + 1, loop_vars + [var])
            return tirx.For(var, rng.randint(0, 2), rng.randint(1, 4), kind, body)
        if roll < 0.9:
            return tirx.SeqStmt([stmt(depth + 1, loop_vars) for _ in range(rng.randint(2, 3))])
        cond = (loop_vars[0] if loop_vars else tirx.const(1, "int32")) < rng.randint(1, 3)
        else_case = stmt(depth + 1, loop_vars) if rng.random() < 0.5 else None
        return tirx.IfThenElse(cond, stmt(depth + 1, loop_vars), else_case)

    return tirx.PrimFunc([a, b], stmt(0, [])).with_attr("global_symbol", "main")


def matmul(m: int, n: int, k: int, dtype: str = "float32"):
    """C[i, j] += A[i, k] * B[k, j] as one s_tir reduction block "C" (scheduled by project_a's
    primitive, compiled by project_b's backend)."""
    from tvm.script import tirx as T

    @T.prim_func(s_tir=True)
    def func(A: T.Buffer((m, k), dtype), B: T.Buffer((k, n), dtype), C: T.Buffer((m, n), dtype)):
        for i, j, kk in T.grid(m, n, k):
            with T.sblock("C"):
                vi, vj, vk = T.axis.remap("SSR", [i, j, kk])
                with T.init():
                    C[vi, vj] = T.cast(0, dtype)
                C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]

    return func


def gpu_program(seed: int, unroll: bool = True):
    """A GPU-style kernel: blockIdx.x / threadIdx.x loop bindings (IterVars without a domain), a
    block allocating a thread-local buffer, an annotated unrolled loop (or a serial one when
    `unroll` is false) and random sizes and constants."""
    from tvm.script import tirx as T

    rng = random.Random(seed)
    blocks, threads, steps = rng.choice([1, 2, 4]), rng.choice([4, 8, 32]), rng.choice([1, 2, 4])
    n, scale, offset = blocks * threads * steps, rng.randint(1, 5), rng.randint(0, 9)

    first_loop = T.unroll if unroll else T.serial

    @T.prim_func(s_tir=True)
    def func(A: T.Buffer((n,), "int32"), B: T.Buffer((n,), "int32")):
        for bx in T.thread_binding(blocks, thread="blockIdx.x"):
            for tx in T.thread_binding(threads, thread="threadIdx.x"):
                with T.sblock("compute"):
                    T.reads(A[0:n])
                    T.writes(B[0:n])
                    local = T.sblock_alloc_buffer((steps,), "int32", scope="local")
                    for k in first_loop(steps):
                        local[k] = A[(bx * threads + tx) * steps + k] * scale
                    for k in range(steps):
                        B[(bx * threads + tx) * steps + k] = local[k] + offset

    return func.with_attr("global_symbol", "main")


def seq(stmts):
    """A statement sequence as TVM's SeqStmt constructor normalizes it (nested sequences inlined,
    `T.evaluate(0)` dropped), unwrapped when one statement is left."""
    flat = []
    for s in stmts:
        if isinstance(s, tirx.SeqStmt):
            flat.extend(s.seq)
        elif not (
            isinstance(s, tirx.Evaluate) and isinstance(s.value, tirx.IntImm) and s.value.value == 0
        ):
            flat.append(s)
    if not flat:
        return tirx.Evaluate(tirx.const(0, "int32"))
    return flat[0] if len(flat) == 1 else tirx.SeqStmt(flat)


def noop_program(seed: int, size: int = 32):
    """A program full of statements that may do nothing, for RemoveNoOp: evaluations of
    constants, pure expressions, loads and (kept) extern calls; loops with empty bodies, zero,
    negative, symbolic or outer-loop-dependent extents; while loops; conditions that are
    constant, symbolic, `likely` or calls; attributes with empty bodies; stores of the value
    already there (and of neighbouring values, which are not no-ops); bindings; constant
    selects in loop bounds."""
    rng = random.Random(seed)
    a = tirx.decl_buffer((size,), "int32", "A")
    b = tirx.decl_buffer((size,), "int32", "B")
    n = tirx.Var("n", "int32")
    counter = [0]

    def fresh(prefix):
        counter[0] += 1
        return tirx.Var(f"{prefix}{counter[0]}", "int32")

    def extern(dtype="int32"):
        return tirx.call_extern(dtype, rng.choice(["f", "g"]))

    def index(env):
        expr = tirx.const(rng.randrange(size), "int32")
        if env and rng.random() < 0.7:
            expr = expr + rng.choice(env)
        return tirx.floormod(expr, size)

    def empty(env):
        roll = rng.random()
        if roll < 0.4:
            return tirx.Evaluate(tirx.const(rng.choice([0, 0, 1, 7]), "int32"))
        if roll < 0.6:
            return tirx.Evaluate(n + (rng.choice(env) if env else 1))
        if roll < 0.75:
            return tirx.Evaluate(tirx.BufferLoad(a, [index(env)]))
        if roll < 0.85:
            return tirx.Evaluate(tirx.Select(n < 2, n, tirx.const(3, "int32")))
        return seq([tirx.Evaluate(tirx.const(0, "int32")), tirx.Evaluate(n * 2)])

    def store(env):
        idx = index(env)
        roll = rng.random()
        if roll < 0.2:
            return tirx.BufferStore(b, tirx.BufferLoad(b, [idx]), [idx])
        if roll < 0.3:
            return tirx.BufferStore(b, tirx.BufferLoad(b, [idx]) + 0, [idx])
        if roll < 0.4:
            return tirx.BufferStore(b, tirx.BufferLoad(b, [idx]) * 1, [idx])
        if roll < 0.5:
            return tirx.BufferStore(b, tirx.BufferLoad(b, [tirx.floormod(idx + 1, size)]), [idx])
        value = tirx.BufferLoad(a, [index(env)]) * rng.randint(1, 3)
        if env and rng.random() < 0.5:
            value = value + rng.choice(env)
        return tirx.BufferStore(b, value, [idx])

    def cond(env):
        roll = rng.random()
        if roll < 0.2:
            return tirx.const(rng.random() < 0.5, "bool")
        if roll < 0.3:
            return tirx.likely((rng.choice(env) if env else n) < rng.randint(1, 4))
        if roll < 0.4:
            return extern("bool")
        if roll < 0.5:
            return tirx.Select(tirx.const(rng.random() < 0.5, "bool"), n < 3, n > 5)
        return (rng.choice(env) if env else n) < rng.randint(0, 4)

    def extent(env):
        roll = rng.random()
        if roll < 0.15:
            return tirx.const(0, "int32")
        if roll < 0.3 and env:
            return rng.choice(env) - (n if rng.random() < 0.3 else rng.randint(0, 4))
        if roll < 0.4:
            return n
        if roll < 0.5:
            return tirx.Select(
                tirx.const(rng.random() < 0.5, "bool"),
                tirx.const(3, "int32"),
                tirx.const(0, "int32"),
            )
        return tirx.const(rng.randint(1, 4), "int32")

    def stmt(depth, env):
        roll = rng.random()
        if depth >= 4 or roll < 0.2:
            return store(env) if rng.random() < 0.5 else empty(env)
        if roll < 0.25:
            return tirx.Evaluate(extern())
        if roll < 0.3:
            return tirx.While(cond(env), stmt(depth + 1, env))
        if roll < 0.5:
            var = fresh("i")
            lo = extern() if rng.random() < 0.05 else tirx.const(rng.randint(0, 2), "int32")
            return tirx.For(var, lo, extent(env), SERIAL, stmt(depth + 1, env + [var]))
        if roll < 0.65:
            return seq([stmt(depth + 1, env) for _ in range(rng.randint(2, 3))])
        if roll < 0.8:
            else_case = stmt(depth + 1, env) if rng.random() < 0.6 else None
            return tirx.IfThenElse(cond(env), stmt(depth + 1, env), else_case)
        if roll < 0.9:
            key = rng.choice(["pragma_x", "pragma_x", "pragma_debug_skip_region"])
            value = extern() if rng.random() < 0.3 else n
            return tirx.AttrStmt(tirx.const(0, "int32"), key, value, stmt(depth + 1, env))
        var = fresh("x")
        return seq([tirx.Bind(var, n + rng.randint(0, 3)), stmt(depth + 1, env + [var])])

    body = seq([stmt(0, []) for _ in range(rng.randint(1, 3))])
    return tirx.PrimFunc([a, b, n], body).with_attr("global_symbol", "main")


def int64_program(seed: int):
    """Loop nests over int64 variables, for NarrowDataType: constant extents that fit in int32
    and ones that do not (3e9), symbolic extents (an int64 parameter), index arithmetic (+, *,
    floordiv, floormod, min, max, shifts, bitwise and/or, select), bindings of indices, conditions
    on loop variables, integer casts, lets, loop variables stored as values into int32 and float32
    buffers, a local buffer allocated with an int64 shape, and a thread launch."""
    rng = random.Random(seed)
    i64 = "int64"
    a = tirx.decl_buffer((tirx.const(1 << 20, i64),), "float32", "A")
    b = tirx.decl_buffer((tirx.const(1 << 20, i64),), "float32", "B")
    c = tirx.decl_buffer((tirx.const(64, i64),), "int32", "C")
    n = tirx.Var("n", i64)
    counter = [0]
    local = None
    if rng.random() < 0.3:
        local = tirx.decl_buffer((tirx.const(rng.choice([64, 1 << 33]), i64),), "float32", "L")

    def const(v):
        return tirx.const(v, i64)

    def fresh(prefix):
        counter[0] += 1
        return tirx.Var(f"{prefix}{counter[0]}", i64)

    def index(env):
        if not env:
            return const(rng.randrange(64))
        expr = rng.choice(env)
        for _ in range(rng.randint(0, 2)):
            roll = rng.random()
            other = rng.choice(env) if rng.random() < 0.5 else const(rng.randint(1, 16))
            if roll < 0.3:
                expr = expr * const(rng.choice([2, 4, 16, 3000]))
            elif roll < 0.5:
                expr = expr + other
            elif roll < 0.6:
                expr = tirx.floordiv(expr, const(rng.choice([2, 8])))
            elif roll < 0.7:
                expr = tirx.floormod(expr, const(rng.choice([4, 16])))
            elif roll < 0.75:
                expr = tirx.min(expr, other)
            elif roll < 0.8:
                expr = tirx.max(expr, other)
            elif roll < 0.83:
                expr = expr << const(rng.randint(0, 3))
            elif roll < 0.86:
                expr = expr >> const(1)
            elif roll < 0.88:
                expr = expr & const(rng.choice([3, 15]))
            elif roll < 0.9:
                expr = tirx.Cast(i64, tirx.Cast("int32", expr))
            elif roll < 0.95:
                expr = tirx.Select(expr < const(8), expr, other)
            else:
                var = fresh("v")
                expr = tirx.Let(var, expr, var + other)
        return expr

    def stmt(depth, env):
        roll = rng.random()
        if depth >= 3 or roll < 0.3:
            target = rng.random()
            if target < 0.2 and env:
                value = tirx.Cast("int32", rng.choice(env) + const(1))
                return tirx.BufferStore(c, value, [index(env)])
            if target < 0.3 and env:
                return tirx.BufferStore(b, tirx.Cast("float32", rng.choice(env)), [index(env)])
            if target < 0.4 and local is not None:
                return tirx.BufferStore(local, tirx.BufferLoad(a, [index(env)]), [index(env)])
            source = local if local is not None and target < 0.5 else a
            return tirx.BufferStore(b, tirx.BufferLoad(source, [index(env)]) * 2.0, [index(env)])
        if roll < 0.7:
            var = fresh("i")
            extent_roll = rng.random()
            if extent_roll < 0.1:
                extent = const(3_000_000_000)
            elif extent_roll < 0.2:
                extent = n
            else:
                extent = const(rng.choice([1, 4, 16, 128, 1024]))
            return tirx.For(var, const(0), extent, SERIAL, stmt(depth + 1, env + [var]))
        if roll < 0.8:
            return seq([stmt(depth + 1, env) for _ in range(rng.randint(2, 3))])
        if roll < 0.9:
            lhs = rng.choice(env) if env else n
            else_case = stmt(depth + 1, env) if rng.random() < 0.4 else None
            return tirx.IfThenElse(lhs < const(rng.randint(1, 9)), stmt(depth + 1, env), else_case)
        var = fresh("x")
        return seq([tirx.Bind(var, index(env)), stmt(depth + 1, env + [var])])

    threads = []
    if rng.random() < 0.2:  # a thread launch, its variable used like a loop's
        tx = tirx.Var("tx", i64)
        threads = [(tirx.IterVar(None, tx, tirx.IterVar.ThreadIndex, "threadIdx.x"), tx)]
    body = [stmt(0, [v for _, v in threads]) for _ in range(rng.randint(1, 3))]
    if local is not None:
        body = [tirx.AllocBuffer(local)] + body
    body = seq(body)
    for iv, _ in threads:
        body = tirx.AttrStmt(iv, "thread_extent", const(rng.choice([32, 1 << 32])), body)
    return tirx.PrimFunc([a, b, c, n], body).with_attr("global_symbol", "main")


VECTORIZED = tirx.ForKind.VECTORIZED
VECTOR_DTYPES = ("int32", "float32", "int8", "float16")


def vector_program(seed: int, size: int = 256):
    """A function with vectorized loops (2, 4, 8 or 16 lanes) for checking TVM's VectorizeLoop:
    int32/float32/int8/float16 arithmetic, casts, min/max, selects, loads with affine indices
    (strides 1-3), ramps and broadcasts already in the body, loop-invariant scalars,
    vectorizable calls (exp), lets, bitwise and logical operators, serial loops around and
    inside the vectorized ones, bindings, and statements TVM scalarizes (an `if` or an
    `if_then_else` whose condition depends on the lane, a call TVM does not vectorize)."""
    rng = random.Random(seed)
    bufs = {d: tirx.decl_buffer((size,), d, f"buf_{d}") for d in VECTOR_DTYPES}
    x, y = tirx.Var("x", "int32"), tirx.Var("y", "float32")
    counter = [0]

    def fresh(prefix, dtype="int32"):
        counter[0] += 1
        return tirx.Var(f"{prefix}{counter[0]}", dtype)

    def index(ctx):
        """An affine index: constant + outer * c + lane * stride (+ an inner serial variable)."""
        expr = tirx.const(rng.randrange(32), "int32")
        for outer in ctx["outer"]:
            if rng.random() < 0.6:
                expr = expr + outer * rng.choice([1, 4, 16])
        if ctx["lane"] is not None and rng.random() < 0.85:
            stride = rng.choice([1, 1, 1, 2, 3])
            expr = expr + (ctx["lane"] * stride if stride != 1 else ctx["lane"])
        for inner in ctx["inner"]:
            if rng.random() < 0.7:
                expr = expr + inner
        return expr

    def leaf(dtype, ctx):
        roll = rng.random()
        if roll < 0.45:
            return tirx.BufferLoad(bufs[dtype], [index(ctx)])
        if roll < 0.6:
            return tirx.const(rng.randint(1, 5), dtype)
        if roll < 0.8 and ctx["lane"] is not None:
            lane = rng.choice(
                [
                    ctx["lane"],
                    ctx["lane"] + rng.randint(0, 3),
                    x - ctx["lane"],  # a scalar minus a ramp stays a ramp
                    ctx["lane"] * x,  # x may be negative: a vector multiplication
                    rng.randint(2, 3) * ctx["lane"],  # a positive constant: a ramp
                ]
            )
            return lane if lane.ty.dtype == dtype else tirx.Cast(dtype, lane)
        if ctx["bound"] and rng.random() < 0.5:
            var = rng.choice(ctx["bound"])
            return var if dtype == "int32" else tirx.Cast(dtype, var)
        if dtype == "float32":
            return y
        return x if dtype == "int32" else tirx.Cast(dtype, x)

    def condition(ctx, lane_dependent):
        if lane_dependent and ctx["lane"] is not None:
            return ctx["lane"] < rng.randint(1, 6)
        if ctx["outer"] and rng.random() < 0.5:
            return rng.choice(ctx["outer"]) < rng.randint(1, 3)
        return x < rng.randint(0, 9)

    def expr(dtype, ctx, depth):
        if depth >= 3 or rng.random() < 0.3:
            return leaf(dtype, ctx)
        a, b = expr(dtype, ctx, depth + 1), expr(dtype, ctx, depth + 1)
        roll = rng.random()
        if roll < 0.2:
            return a + b
        if roll < 0.3:
            return a - b
        if roll < 0.45:
            return a * b
        if roll < 0.55:
            return tirx.min(a, b)
        if roll < 0.62:
            return tirx.max(a, b)
        if roll < 0.72:
            return tirx.Select(expr(dtype, ctx, depth + 1) < expr(dtype, ctx, depth + 1), a, b)
        if roll < 0.8:
            other = rng.choice([d for d in VECTOR_DTYPES if d != dtype])
            return tirx.Cast(dtype, expr(other, ctx, depth + 1))
        if roll < 0.85 and dtype in ("float32", "float16"):
            return tirx.exp(a)
        if roll < 0.9 and dtype in ("int32", "int8"):
            return tirx.floordiv(a, tirx.const(rng.choice([2, 4, 3]), dtype)) + tirx.floormod(
                b, tirx.const(rng.choice([2, 8]), dtype)
            )
        if roll < 0.93:
            return tirx.if_then_else(condition(ctx, lane_dependent=False), a, b)
        if roll < 0.96:  # a let expression: its variable becomes a vector when its value does
            var = tirx.Var(f"e{rng.randrange(1000)}", dtype)
            return tirx.Let(var, a, var * var + b)
        if dtype in ("int32", "int8"):
            c = leaf(dtype, ctx) < leaf(dtype, ctx)
            cond = tirx.Not(c) if rng.random() < 0.5 else tirx.And(c, x < 3)
            return tirx.bitwise_and(a, b) + tirx.Cast(dtype, cond)
        return a + b

    def store(ctx):
        dtype = rng.choice(VECTOR_DTYPES)
        return tirx.BufferStore(bufs[dtype], expr(dtype, ctx, 0), [index(ctx)])

    def body_stmt(ctx, depth):
        roll = rng.random()
        if depth >= 2 or roll < 0.45:
            return store(ctx)
        if roll < 0.6:  # an if: lane-dependent ones are scalarized
            cond = condition(ctx, lane_dependent=rng.random() < 0.5)
            else_case = body_stmt(ctx, depth + 1) if rng.random() < 0.4 else None
            return tirx.IfThenElse(cond, body_stmt(ctx, depth + 1), else_case)
        if roll < 0.72:  # a serial loop inside the vectorized one
            inner = fresh("k")
            inner_ctx = dict(ctx, inner=ctx["inner"] + [inner])
            return tirx.For(inner, 0, rng.randint(1, 3), SERIAL, body_stmt(inner_ctx, depth + 1))
        if roll < 0.82:  # a lane-dependent select as if_then_else: scalarized
            dtype = rng.choice(VECTOR_DTYPES)
            value = tirx.if_then_else(
                condition(ctx, lane_dependent=True), expr(dtype, ctx, 2), expr(dtype, ctx, 2)
            )
            return tirx.BufferStore(bufs[dtype], value, [index(ctx)])
        if roll < 0.85:  # a store of a ramp of elements, inside the vectorized loop
            width = rng.choice([2, 4])
            value = tirx.Broadcast(leaf("int32", dict(ctx, lane=None)), width)
            return tirx.BufferStore(bufs["int32"], value, [tirx.Ramp(index(ctx), 1, width)])
        if roll < 0.9:  # a call TVM does not vectorize, with a lane-dependent argument
            value = tirx.call_pure_extern("int32", "my_scalar_fn", ctx["lane"] + x)
            return tirx.BufferStore(bufs["int32"], value, [index(ctx)])
        # bindings, used by the statements after them
        var = fresh("v")
        value = expr("int32", ctx, 1) if rng.random() < 0.7 else x * rng.randint(2, 4)
        rest_ctx = dict(ctx, bound=ctx["bound"] + [var])
        rest = [body_stmt(rest_ctx, depth + 1) for _ in range(rng.randint(1, 2))]
        return tirx.SeqStmt([tirx.Bind(var, value)] + rest)

    def vector_loop(outer):
        index_type = "int64" if rng.random() < 0.15 else "int32"  # an int64 loop variable
        lane = fresh("i", index_type)
        ctx = {"outer": outer, "lane": lane, "inner": [], "bound": []}
        stmts = [body_stmt(ctx, 0) for _ in range(rng.randint(1, 3))]
        body = stmts[0] if len(stmts) == 1 else tirx.SeqStmt(stmts)
        lanes = tirx.const(rng.choice([2, 4, 8, 16]), index_type)
        return tirx.For(lane, tirx.const(0, index_type), lanes, VECTORIZED, body)

    def top(outer, depth):
        roll = rng.random()
        if depth < 2 and roll < 0.4:  # a serial loop around
            var = fresh("j")
            return tirx.For(
                var, rng.randint(0, 2), rng.randint(1, 4), SERIAL, top(outer + [var], depth + 1)
            )
        if depth < 2 and roll < 0.55:
            return tirx.SeqStmt([top(outer, depth + 1) for _ in range(2)])
        return vector_loop(outer)

    func = tirx.PrimFunc([x, y] + list(bufs.values()), top([], 0))
    return func.with_attr("global_symbol", "main")
