"""PyTorch side of bench/kernels/bench_pool.cpp: the same shapes, the same bytes counted."""
import torch
import torch.nn.functional as F

_STEM = (32, 64, 112, 112)
_STEM_OUT = (32, 64, 56, 56)
_HEAD = (32, 2048, 7, 7)


def _gb(*shapes_and_sizes):
    return sum(torch.Size(s).numel() * b for s, b in shapes_and_sizes) / 1e9


def _stem_backward_setup():
    x = torch.rand(_STEM)
    _, i = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    return torch.rand(_STEM_OUT), x, i


WORKLOADS = [
    dict(bench="bench_pool", name="BM_max_pool2d_stem", metric="GB/s",
         work=_gb((_STEM, 4), (_STEM_OUT, 4)),
         torch_setup=lambda: (torch.rand(_STEM),), torch_fn=lambda x: F.max_pool2d(x, 3, 2, 1)),
    dict(bench="bench_pool", name="BM_max_pool2d_stem_indices", metric="GB/s",
         work=_gb((_STEM, 4), (_STEM_OUT, 12)),
         torch_setup=lambda: (torch.rand(_STEM),),
         torch_fn=lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True)),
    dict(bench="bench_pool", name="BM_max_pool2d_stem_backward", metric="GB/s",
         work=_gb((_STEM_OUT, 12), (_STEM, 4)), torch_setup=_stem_backward_setup,
         torch_fn=lambda g, x, i: torch.ops.aten.max_pool2d_with_indices_backward(
             g, x, [3, 3], [2, 2], [1, 1], [1, 1], False, i)),
    dict(bench="bench_pool", name="BM_adaptive_avg_pool2d_head", metric="GB/s",
         work=_gb((_HEAD, 4), ((32, 2048), 4)),
         torch_setup=lambda: (torch.rand(_HEAD),), torch_fn=lambda x: F.adaptive_avg_pool2d(x, 1)),
    dict(bench="bench_pool", name="BM_adaptive_avg_pool2d_head_backward", metric="GB/s",
         work=_gb((_HEAD, 4), ((32, 2048), 4)),
         torch_setup=lambda: (torch.rand(32, 2048, 1, 1), torch.rand(_HEAD)),
         torch_fn=lambda g, x: torch.ops.aten._adaptive_avg_pool2d_backward(g, x)),
    dict(bench="bench_pool", name="BM_avg_pool2d_3x3s2", metric="GB/s",
         work=_gb(((32, 64, 56, 56), 4), ((32, 64, 28, 28), 4)),
         torch_setup=lambda: (torch.rand(32, 64, 56, 56),),
         torch_fn=lambda x: F.avg_pool2d(x, 3, 2, 1)),
    dict(bench="bench_pool", name="BM_upsample_bilinear2x", metric="GB/s",
         work=_gb(((8, 64, 64, 64), 20)),
         torch_setup=lambda: (torch.rand(8, 64, 64, 64),),
         torch_fn=lambda x: F.interpolate(x, scale_factor=2, mode="bilinear")),
    dict(bench="bench_pool", name="BM_dropout", metric="GB/s", work=_gb(((1 << 24,), 9)),
         torch_setup=lambda: (torch.rand(1 << 24),),
         torch_fn=lambda x: torch.native_dropout(x, 0.1, True)),
]
