#!/usr/bin/env python3
"""Golden values for tests/nn/test_golden_net.cpp: a reduced network with every layer kind of
anvil's nn, fixed weights and inputs, one training forward and backward and one eval forward,
computed by PyTorch in float64.

Run from the repository root with /usr/bin/python3 (PyTorch is a tool for this script only):
    /usr/bin/python3 tests/golden/make_nn_golden.py
It writes
  tests/golden/nn_net_state_dict.txt: the state dict's names and shapes in order,
      <name> <size...>
  tests/golden/nn_net.txt: one tensor per block,
      <name> <ndim> <size...>
      <values, row-major, %.17g>
    input.* and target.*: the inputs and loss targets;
    state.<name>: the state dict before the step (parameters and buffers, running statistics and
      num_batches_tracked made non-trivial so that the update rules show);
    out.<name>, loss.<kind>, loss: the training forward (BatchNorm on batch statistics);
    grad.<name>: the gradient of loss for every parameter;
    after.<name>: every buffer after the training forward;
    eval.<name>, eval.loss: the forward again in eval mode (BatchNorm on the updated running
      statistics), no gradient.
Dropout has p = 0 (its training masks differ between libraries); the eval pass checks it as the
identity.
"""
import pathlib

import torch
import torch.nn.functional as F
from torch import nn

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
OUT = pathlib.Path(__file__).resolve().parent


class RMSNorm(nn.Module):
    """torch 1.13 has no nn.RMSNorm: x / sqrt(mean(x^2) + eps) * weight over the last dim."""

    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class VisionNet(nn.Module):
    """Images [8, 3, 9, 9] -> class logits [8, 5] and sigmoid regression values [8, 3]."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.ModuleList([
            # 9x9 -> 5x5
            nn.Sequential(nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2, groups=2),
                          nn.GroupNorm(4, 8), nn.LeakyReLU(0.1)),
            # 5x5 -> 10x10
            nn.Sequential(nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
                          nn.SiLU()),
        ])
        self.pools = nn.ModuleDict({
            "max": nn.MaxPool2d(3, stride=2, padding=1),  # 5x5
            # ceil_mode's last window hangs over the padding; the divisor counts only the input.
            "avg": nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
            "avg_pad": nn.AvgPool2d(2, padding=1),  # 6x6, the divisor counts the padding
            "adaptive": nn.AdaptiveAvgPool2d((3, 2)),  # overlapping windows on 10 rows
        })
        self.flatten = nn.Flatten()
        # Biases feed no BatchNorm directly (their gradient would be zero up to rounding).
        self.head = nn.Sequential(nn.Linear(36, 12), nn.GELU(), nn.BatchNorm1d(12, momentum=None),
                                  nn.Dropout(0.0), nn.Linear(12, 5))
        self.aux = nn.Sequential(nn.Linear(36, 3), nn.Sigmoid())

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        features = [self.pools[k](h).mean((2, 3)) for k in ("max", "avg", "avg_pad")]
        features.append(self.flatten(self.pools["adaptive"](h)))
        features = torch.cat(features, 1)
        return self.head(features), self.aux(features)


def distance_bias(n):
    """An additive float mask, -|i - j| / 4 (nearby tokens count more)."""
    i = torch.arange(n, dtype=torch.float64)
    return -(i[:, None] - i[None, :]).abs() / 4


class TokenNet(nn.Module):
    """Tokens [3, 7] -> class probabilities [3, 4] and binary logits [3, 3]."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 8, padding_idx=0)
        self.norm = nn.LayerNorm(8)
        self.mlp = nn.Sequential(nn.Linear(8, 16), nn.GELU(approximate="tanh"),
                                 nn.Linear(16, 8, bias=False))
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.rms = RMSNorm(8, eps=1e-6)
        self.conv = nn.Conv1d(8, 6, 3, padding=2, dilation=2, groups=2)
        self.bn = nn.BatchNorm1d(6)
        self.act = nn.Tanh()
        self.skip = nn.Identity()
        self.probs = nn.Sequential(nn.Linear(6, 4), nn.Softmax(dim=-1))
        self.logits = nn.Linear(6, 3)

    def forward(self, tokens):
        h = self.norm(self.embed(tokens))
        h = h + self.mlp(h)
        # Self-attention with a float mask and a key-padding mask (every row keeps some keys),
        # returning the head-averaged weights too.
        a, w = self.attn(h, h, h, key_padding_mask=tokens == 0,
                         attn_mask=distance_bias(h.shape[1]).to(h.dtype))
        h = h + a + w.mean(-1, keepdim=True)
        c = self.bn(self.act(self.conv(self.rms(h).transpose(1, 2))))
        pooled = self.skip(c).mean(2)
        return self.probs(pooled), self.logits(pooled)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.vision = VisionNet()
        self.tokens = TokenNet()

    def forward(self, images, tokens):
        logits, aux = self.vision(images)
        probs, binary = self.tokens(tokens)
        return {"logits": logits, "aux": aux, "probs": probs, "binary": binary}


def losses(out, t):
    return {
        "cross_entropy": F.cross_entropy(out["logits"], t["class"], weight=t["class_weight"],
                                         label_smoothing=0.1),
        "smooth_l1": F.smooth_l1_loss(out["aux"], t["aux"], beta=0.5),
        "mse": F.mse_loss(out["probs"], t["probs"]),
        "bce_with_logits": F.binary_cross_entropy_with_logits(out["binary"], t["binary"],
                                                              pos_weight=t["pos_weight"]),
    }


def make_net():
    net = Net()
    with torch.no_grad():
        # Affine norm parameters away from 1 and 0, running statistics away from 0 and 1.
        for name, m in net.named_modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
                m.bias.copy_(0.2 * torch.randn_like(m.bias))
            if isinstance(m, RMSNorm):
                m.weight.copy_(1 + 0.2 * torch.randn_like(m.weight))
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.copy_(0.3 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
                # With momentum=None the update weight is 1 / num_batches_tracked: 1/4 here.
                m.num_batches_tracked.fill_(3)
        for t in net.state_dict().values():
            t.copy_(f32_exact(t))
    return net


def f32_exact(t):
    """Rounded to float32 values, so that the float32 run starts from the same numbers and its
    error against these float64 results is its own arithmetic only."""
    return t.float().to(t.dtype) if t.is_floating_point() else t


def main():
    net = make_net()
    inputs = {
        "images": torch.randn(8, 3, 9, 9),
        # Index 0 (padding_idx) occurs, so its row must get no gradient.
        "tokens": torch.tensor([[1, 4, 0, 7, 10, 3, 3], [0, 0, 2, 5, 9, 8, 1],
                                [6, 6, 6, 0, 2, 10, 4]]),
    }
    targets = {
        "class": torch.tensor([2, 0, -100, 4, 1, 3, 3, 0]),  # -100: ignore_index
        "class_weight": torch.tensor([1.0, 0.5, 2.0, 1.5, 0.8]),
        "aux": torch.rand(8, 3),
        "probs": torch.softmax(torch.randn(3, 4), -1),
        "binary": torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]),
        "pos_weight": torch.tensor([2.0, 0.5, 1.0]),
    }
    inputs = {k: f32_exact(v) for k, v in inputs.items()}
    targets = {k: f32_exact(v) for k, v in targets.items()}
    names = OUT / "nn_net_state_dict.txt"
    names.write_text("".join(" ".join([k] + [str(s) for s in v.shape]) + "\n"
                             for k, v in net.state_dict().items()))

    values = {f"input.{k}": v for k, v in inputs.items()}
    values.update({f"target.{k}": v for k, v in targets.items()})
    values.update({f"state.{k}": v.clone() for k, v in net.state_dict().items()})

    net.train()
    out = net(inputs["images"], inputs["tokens"])
    parts = losses(out, targets)
    loss = sum(parts.values())
    loss.backward()
    values.update({f"out.{k}": v for k, v in out.items()})
    values.update({f"loss.{k}": v for k, v in parts.items()})
    values["loss"] = loss
    values.update({f"grad.{k}": p.grad for k, p in net.named_parameters()})
    values.update({f"after.{k}": v.clone() for k, v in net.named_buffers()})

    net.eval()
    with torch.no_grad():
        out = net(inputs["images"], inputs["tokens"])
        values.update({f"eval.{k}": v for k, v in out.items()})
        values["eval.loss"] = sum(losses(out, targets).values())

    with open(OUT / "nn_net.txt", "w") as f:
        for name, t in values.items():
            t = t.detach().double().contiguous()
            f.write(f"{name} {t.dim()} {' '.join(str(s) for s in t.shape)}\n")
            f.write(" ".join(f"{v:.17g}" for v in t.reshape(-1).tolist()) + "\n")


main()
