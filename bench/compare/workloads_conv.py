"""Convolution workloads for compare.py: bench/kernels/bench_conv.cpp against PyTorch.

Forward is F.conv2d; the backward passes are torch.ops.aten.convolution_backward with one
output-mask bit (input or weight gradient only), the same raw kernels anvil's benchmark calls.
"""
import torch
import torch.nn.functional as F


def _conv(pass_name, name, n, c, o, h, k, stride, pad):
    out = (h + 2 * pad - k) // stride + 1
    gflop = 2.0 * n * o * out * out * c * k * k / 1e9

    def setup():
        return (torch.rand(n, c, h, h), torch.rand(o, c, k, k), torch.rand(n, o, out, out))

    if pass_name == "forward":
        def fn(x, w, g):
            return F.conv2d(x, w, stride=stride, padding=pad)
    else:
        mask = [pass_name == "backward_input", pass_name == "backward_weight", False]

        def fn(x, w, g):
            return torch.ops.aten.convolution_backward(g, x, w, None, [stride] * 2, [pad] * 2,
                                                       [1, 1], False, [0, 0], 1, mask)
    return dict(bench="bench_conv", name=f"BM_conv2d_{pass_name}/{name}", metric="GFLOP/s",
                work=gflop, torch_setup=setup, torch_fn=fn)


WORKLOADS = [
    _conv("forward", "3x3_64x64_32x32_b32", 32, 64, 64, 32, 3, 1, 1),
    _conv("backward_input", "3x3_64x64_32x32_b32", 32, 64, 64, 32, 3, 1, 1),
    _conv("backward_weight", "3x3_64x64_32x32_b32", 32, 64, 64, 32, 3, 1, 1),
    _conv("forward", "1x1_256to64_8x8_b32", 32, 256, 64, 8, 1, 1, 0),
    _conv("forward", "1x1_64to256_8x8_b32", 32, 64, 256, 8, 1, 1, 0),
    _conv("forward", "3x3s2_128_16x16_b32", 32, 128, 128, 16, 3, 2, 1),
]
