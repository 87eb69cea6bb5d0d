"""Attention workloads for compare.py: scaled-dot-product attention on f32 [8, 8, 256, 64], the
forward alone and forward + backward (gradients of q, k and v), plain and causal. torch 1.13 has
no F.scaled_dot_product_attention, so the PyTorch side is the math formula
softmax(q @ k^T * scale + mask) @ v in torch (an additive -inf upper triangle when causal)."""
import math

import torch

B, H, L, E = 8, 8, 256, 64


def setup(grad):
    q, k, v = (torch.randn(B, H, L, E, requires_grad=grad) for _ in range(3))
    return q, k, v, torch.randn(B, H, L, E)


def attention(q, k, v, causal):
    s = q @ k.transpose(-2, -1) * (1 / math.sqrt(E))
    if causal:
        s = s + torch.full((L, L), float("-inf")).triu(1)
    return torch.softmax(s, -1) @ v


def forward(q, k, v, g, causal):
    with torch.no_grad():
        return attention(q, k, v, causal)


def forward_backward(q, k, v, g, causal):
    q.grad = k.grad = v.grad = None
    attention(q, k, v, causal).backward(g)


WORKLOADS = [
    dict(bench="bench_attention", name=f"BM_sdpa_{kind}/{c}", metric="ms", work=None,
         torch_setup=lambda grad=(kind != "forward"): setup(grad),
         torch_fn=lambda *a, fn=fn, c=c: fn(*a, bool(c)))
    for kind, fn in (("forward", forward), ("forward_backward", forward_backward))
    for c in (0, 1)
]
