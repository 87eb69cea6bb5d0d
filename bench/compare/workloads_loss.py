"""PyTorch sides of bench/kernels/bench_loss.cpp: one training step of each loss (forward and
backward into a fresh .grad, as the anvil benchmarks do), in microseconds."""
import torch
import torch.nn.functional as F


def _logits(n, c):
    return lambda: (torch.randn(n, c, requires_grad=True), torch.randint(0, c, (n,)), torch.rand(c))


def _pair():
    n = 1 << 22
    return lambda: (torch.randn(n, requires_grad=True), torch.randn(n, requires_grad=True))


def _step(loss, *xs):
    for x in xs:
        x.grad = None
    loss.backward()


def _ce(x, t, w):
    x.grad = None
    F.cross_entropy(x, t).backward()


def _ce_smooth(x, t, w):
    x.grad = None
    F.cross_entropy(x, t, weight=w, label_smoothing=0.1).backward()


WORKLOADS = [
    dict(bench="bench_loss", name="BM_cross_entropy_fwd_bwd/256/1000", metric="us", work=None, torch_setup=_logits(256, 1000), torch_fn=_ce),
    dict(bench="bench_loss", name="BM_cross_entropy_fwd_bwd/4096/10", metric="us", work=None, torch_setup=_logits(4096, 10), torch_fn=_ce),
    dict(bench="bench_loss", name="BM_cross_entropy_fwd_bwd/4096/32000", metric="us", work=None, torch_setup=_logits(4096, 32000), torch_fn=_ce),
    dict(bench="bench_loss", name="BM_cross_entropy_smoothing_fwd_bwd/256/1000", metric="us", work=None, torch_setup=_logits(256, 1000), torch_fn=_ce_smooth),
    dict(bench="bench_loss", name="BM_cross_entropy_fwd/256/1000", metric="us", work=None, torch_setup=_logits(256, 1000), torch_fn=lambda x, t, w: F.cross_entropy(x.detach(), t)),
    dict(bench="bench_loss", name="BM_cross_entropy_fwd/4096/10", metric="us", work=None, torch_setup=_logits(4096, 10), torch_fn=lambda x, t, w: F.cross_entropy(x.detach(), t)),
    dict(bench="bench_loss", name="BM_mse_loss_fwd_bwd", metric="us", work=None, torch_setup=_pair(), torch_fn=lambda a, b: _step(F.mse_loss(a, b), a, b)),
    dict(bench="bench_loss", name="BM_bce_with_logits_fwd_bwd", metric="us", work=None, torch_setup=_pair(), torch_fn=lambda a, b: _step(F.binary_cross_entropy_with_logits(a, b.sigmoid()), a, b)),
    dict(bench="bench_loss", name="BM_smooth_l1_loss_fwd_bwd", metric="us", work=None, torch_setup=_pair(), torch_fn=lambda a, b: _step(F.smooth_l1_loss(a, b), a, b)),
]
