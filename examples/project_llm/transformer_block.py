"""A transformer block (RMSNorm, 8-head attention with softmax, SwiGLU MLP; hidden 512, sequence
128, batch 1, float32) in ``tvm.relax.frontend.nn``, and its numpy reference.

Nothing here refers to project_llm: installed, it is loaded by ``import tvm`` and is part of TVM's
default Relax pipeline, so a plain ``tvm.compile`` of the block uses it; with
``TVM_EXTEND_NO_AUTOLOAD=1`` the same file compiles the block with TVM alone. Run it to compile
the block, run it on the Relax VM and check it against numpy::

    python examples/project_llm/transformer_block.py
"""

from __future__ import annotations

import numpy as np
from tvm.relax.frontend import nn
from tvm.relax.frontend.nn import op

HIDDEN, SEQ, HEADS, HEAD_DIM, MLP = 512, 128, 8, 64, 2048
EPS = 1e-5


class RMSNorm(nn.Module):
    def __init__(self, dim: int):
        self.weight = nn.Parameter((dim,), "float32")

    def forward(self, x):
        return op.rms_norm(x, self.weight, axes=[-1], epsilon=EPS)


class Block(nn.Module):
    """x + attention(norm1(x)), then + mlp(norm2(.)); Linear weights are (out, in)."""

    def __init__(self):
        self.norm1 = RMSNorm(HIDDEN)
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN, bias=False)
        self.o = nn.Linear(HIDDEN, HIDDEN, bias=False)
        self.norm2 = RMSNorm(HIDDEN)
        self.gate = nn.Linear(HIDDEN, MLP, bias=False)
        self.up = nn.Linear(HIDDEN, MLP, bias=False)
        self.down = nn.Linear(MLP, HIDDEN, bias=False)

    def forward(self, x):
        b, s, _ = x.shape
        qkv = op.reshape(self.qkv(self.norm1(x)), (b, s, 3, HEADS, HEAD_DIM))
        q, k, v = op.split(qkv, 3, axis=2)
        q = op.permute_dims(op.reshape(q, (b, s, HEADS, HEAD_DIM)), [0, 2, 1, 3])
        k = op.permute_dims(op.reshape(k, (b, s, HEADS, HEAD_DIM)), [0, 2, 3, 1])
        v = op.permute_dims(op.reshape(v, (b, s, HEADS, HEAD_DIM)), [0, 2, 1, 3])
        p = op.softmax(op.matmul(q, k) * (1.0 / HEAD_DIM**0.5), axis=-1)
        a = op.reshape(op.permute_dims(op.matmul(p, v), [0, 2, 1, 3]), (b, s, HIDDEN))
        x = x + self.o(a)
        h = self.norm2(x)
        return x + self.down(op.silu(self.gate(h)) * self.up(h))


PARAMS = ["norm1.weight", "qkv.weight", "o.weight", "norm2.weight", "gate.weight", "up.weight",
          "down.weight"]  # fmt: skip


def relax_module():
    """The block as a Relax IRModule: ``forward(x, *weights)`` in the order of PARAMS."""
    spec = {"forward": {"x": nn.spec.Tensor((1, SEQ, HIDDEN), "float32")}}
    mod, params = Block().export_tvm(spec)
    assert [name for name, _ in params] == PARAMS, params
    return mod


def inputs(seed: int = 0) -> list[np.ndarray]:
    """x and the weights, in forward's parameter order."""
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    h, f = HIDDEN, MLP
    return [
        normal(1, SEQ, h),
        1 + normal(h, scale=0.1),
        normal(3 * h, h, scale=h**-0.5),
        normal(h, h, scale=h**-0.5),
        1 + normal(h, scale=0.1),
        normal(f, h, scale=h**-0.5),
        normal(f, h, scale=h**-0.5),
        normal(h, f, scale=f**-0.5),
    ]


def _rms_norm(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(EPS)) * w


def reference(x, norm1, wqkv, wo, norm2, wgate, wup, wdown):
    """The block in numpy (its matmuls are BLAS calls)."""
    b, s, _ = x.shape
    qkv = (_rms_norm(x, norm1) @ wqkv.T).reshape(b, s, 3, HEADS, HEAD_DIM)
    q = qkv[:, :, 0].transpose(0, 2, 1, 3)
    k = qkv[:, :, 1].transpose(0, 2, 3, 1)
    v = qkv[:, :, 2].transpose(0, 2, 1, 3)
    scores = (q @ k) * np.float32(1.0 / HEAD_DIM**0.5)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p = scores / scores.sum(axis=-1, keepdims=True)
    x = x + (p @ v).transpose(0, 2, 1, 3).reshape(b, s, HIDDEN) @ wo.T
    h = _rms_norm(x, norm2)
    g = h @ wgate.T
    return x + ((g / (1 + np.exp(-g))) * (h @ wup.T)) @ wdown.T


def flops() -> int:
    """Floating-point operations of the block's matmuls (2 per multiply-add)."""
    h, s, f = HIDDEN, SEQ, MLP
    projections = 2 * s * h * (3 * h + h + 2 * f) + 2 * s * f * h
    attention = 2 * 2 * HEADS * s * s * HEAD_DIM
    return projections + attention


def main() -> None:
    import tvm  # loads installed extensions: project_llm joins TVM's default Relax pipeline
    from tvm import relax

    import tvm_extend

    target = tvm.target.Target.from_device(tvm.cpu())
    executable = tvm.compile(relax_module(), target=target)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    args = inputs()
    out = vm["forward"](*[tvm.runtime.tensor(a) for a in args]).numpy()
    ref = reference(*args)
    error = float(np.abs(out - ref).max() / np.abs(ref).max())
    owners = sorted({owner for _, owner in tvm_extend.pipeline.describe(ir="relax")} - {"TVM"})
    print(
        f"transformer block on {target} (Relax pipeline contributors: {owners or 'none'}): "
        f"max relative error against numpy {error:.1e}"
    )
    assert error < 1e-4


if __name__ == "__main__":
    main()
