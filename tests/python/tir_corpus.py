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
