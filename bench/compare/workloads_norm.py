"""Norm workloads for compare.py: batch norm training forward and backward on [32, C, 56, 56]
(C = 64, 256), one autograd training step of batch norm, and layer norm forward and backward on
[4096, 1024]. Backward rows call the ATen kernels directly (native_*_backward), as anvil's bench
calls its raw backward ops."""
import torch
import torch.nn.functional as F


def bn_setup(c):
    return (torch.randn(32, c, 56, 56), torch.rand(c), torch.rand(c), torch.zeros(c), torch.ones(c))


def bn_channels_last_setup(c):
    x, w, b, rm, rv = bn_setup(c)
    return x.contiguous(memory_format=torch.channels_last), w, b, rm, rv


def bn_backward_setup(c):
    x, w, b = torch.randn(32, c, 56, 56), torch.rand(c), torch.rand(c)
    _, mean, invstd = torch.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)
    return torch.randn(32, c, 56, 56), x, w, mean, invstd


def bn_backward(g, x, w, mean, invstd):
    return torch.ops.aten.native_batch_norm_backward(g, x, w, None, None, mean, invstd, True, 1e-5,
                                                     [True, True, True])


def bn_step_setup(c):
    x = torch.randn(32, c, 56, 56, requires_grad=True)
    w, b = torch.rand(c, requires_grad=True), torch.rand(c, requires_grad=True)
    return x, w, b, torch.zeros(c), torch.ones(c), torch.randn(32, c, 56, 56)


def bn_step(x, w, b, rm, rv, g):
    x.grad = w.grad = b.grad = None
    F.batch_norm(x, rm, rv, w, b, training=True).backward(g)


def ln_setup():
    return torch.randn(4096, 1024), torch.randn(4096, 1024), torch.rand(1024), torch.rand(1024)


def ln_backward_setup():
    g, x, w, b = ln_setup()
    _, mean, rstd = torch.native_layer_norm(x, [1024], w, b, 1e-5)
    return g, x, w, b, mean, rstd


def ln_backward(g, x, w, b, mean, rstd):
    return torch.ops.aten.native_layer_norm_backward(g, x, [1024], mean, rstd, w, b, [True, True, True])


def ln_forward_backward(g, x, w, b):
    _, mean, rstd = torch.native_layer_norm(x, [1024], w, b, 1e-5)
    return ln_backward(g, x, w, b, mean, rstd)


def bn_bytes(c, tensors):
    return tensors * 4.0 * 32 * c * 56 * 56 / 1e9


LN_BYTES = 4.0 * 4096 * 1024 / 1e9

WORKLOADS = [
    dict(bench="bench_norm", name="BM_batch_norm_train_forward/64", metric="GB/s", work=bn_bytes(64, 2), torch_setup=lambda: bn_setup(64), torch_fn=lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True)),
    dict(bench="bench_norm", name="BM_batch_norm_train_forward/256", metric="GB/s", work=bn_bytes(256, 2), torch_setup=lambda: bn_setup(256), torch_fn=lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True)),
    dict(bench="bench_norm", name="BM_batch_norm_train_forward_channels_last/64", metric="GB/s", work=bn_bytes(64, 2), torch_setup=lambda: bn_channels_last_setup(64), torch_fn=lambda x, w, b, rm, rv: F.batch_norm(x, rm, rv, w, b, training=True)),
    dict(bench="bench_norm", name="BM_batch_norm_backward/64", metric="GB/s", work=bn_bytes(64, 3), torch_setup=lambda: bn_backward_setup(64), torch_fn=bn_backward),
    dict(bench="bench_norm", name="BM_batch_norm_backward/256", metric="GB/s", work=bn_bytes(256, 3), torch_setup=lambda: bn_backward_setup(256), torch_fn=bn_backward),
    dict(bench="bench_norm", name="BM_batch_norm_train_step/64", metric="GB/s", work=bn_bytes(64, 5), torch_setup=lambda: bn_step_setup(64), torch_fn=bn_step),
    dict(bench="bench_norm", name="BM_layer_norm_forward", metric="GB/s", work=2 * LN_BYTES, torch_setup=ln_setup, torch_fn=lambda g, x, w, b: F.layer_norm(x, (1024,), w, b)),
    dict(bench="bench_norm", name="BM_layer_norm_backward", metric="GB/s", work=3 * LN_BYTES, torch_setup=ln_backward_setup, torch_fn=ln_backward),
    dict(bench="bench_norm", name="BM_layer_norm_forward_backward", metric="GB/s", work=5 * LN_BYTES, torch_setup=ln_setup, torch_fn=ln_forward_backward),
]
