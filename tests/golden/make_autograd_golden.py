#!/usr/bin/env python3
"""Golden values for tests/autograd/test_golden.cpp: two small networks written with basic ops
(no nn.Module), their loss and the gradients of every parameter, computed by PyTorch in float64.

Run from the repository root with /usr/bin/python3 (PyTorch is a tool for this script only):
    /usr/bin/python3 tests/golden/make_autograd_golden.py
It writes tests/golden/autograd_<net>.txt: one tensor per block,
    <name> <ndim> <size...>
    <values, row-major, %.17g>
The inputs and weights are in the file too, so the C++ test needs no random generator of PyTorch.
"""
import math
import pathlib

import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
OUT = pathlib.Path(__file__).resolve().parent


def write(path, tensors):
    with open(path, "w") as f:
        for name, t in tensors.items():
            t = t.detach().contiguous()
            f.write(f"{name} {t.dim()} {' '.join(str(s) for s in t.shape)}\n")
            f.write(" ".join(f"{v:.17g}" for v in t.reshape(-1).tolist()) + "\n")


def save(file, x, target, params, loss):
    """Backward from loss, then the inputs, parameters, loss and parameter gradients."""
    loss.backward()
    values = {"x": x, "target": target.double()}
    values.update(params)
    values["loss"] = loss
    values.update({f"grad_{k}": v.grad for k, v in params.items()})
    write(OUT / file, values)


def cross_entropy(logits, target):
    # Softmax cross-entropy from basic ops: mean(logsumexp(z) - z[target]).
    picked = torch.gather(logits, 1, target.unsqueeze(1)).squeeze(1)
    return (torch.logsumexp(logits, dim=1) - picked).mean()


def mlp():
    x = torch.randn(8, 16)
    target = torch.randint(0, 10, (8,))
    params = {
        "w1": (torch.randn(32, 16) / 4).requires_grad_(),
        "b1": (torch.randn(32) / 10).requires_grad_(),
        "w2": (torch.randn(10, 32) / 6).requires_grad_(),
        "b2": (torch.randn(10) / 10).requires_grad_(),
    }
    h = torch.nn.functional.gelu(x @ params["w1"].t() + params["b1"])
    logits = torch.nn.functional.linear(h, params["w2"], params["b2"])
    save("autograd_mlp.txt", x, target, params, cross_entropy(logits, target))


def token_net():
    # Layer norm as a composite, a tanh-GELU MLP with matmul, mean pooling, softmax CE.
    x = torch.randn(4, 6, 16)
    target = torch.randint(0, 5, (4,))
    params = {
        "gamma": (1 + torch.randn(16) / 10).requires_grad_(),
        "beta": (torch.randn(16) / 10).requires_grad_(),
        "w1": (torch.randn(16, 24) / 4).requires_grad_(),
        "w2": (torch.randn(24, 16) / 5).requires_grad_(),
        "head": (torch.randn(16, 5) / 4).requires_grad_(),
    }
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    normed = (x - mean) / torch.sqrt(var + 1e-5) * params["gamma"] + params["beta"]
    hidden = torch.nn.functional.gelu(normed @ params["w1"], approximate="tanh")
    y = x + hidden @ params["w2"]  # residual
    logits = y.mean(dim=1) @ params["head"]
    save("autograd_token_net.txt", x, target, params, cross_entropy(logits, target))


mlp()
token_net()
