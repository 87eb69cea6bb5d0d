#!/usr/bin/env python3
"""Golden trajectories for tests/nn/test_optim.cpp: torch.optim.SGD / Adam / AdamW on two float64
parameters for 5 steps with fixed gradients, in several configurations.

    /usr/bin/python3 tests/golden/make_optim_golden.py
writes tests/golden/optim_trajectories.txt in the format of make_autograd_golden.py: the initial
parameters, the gradient of every step, and the parameters after every step of every config.
"""
import pathlib

import torch

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent
STEPS = 5

init = [torch.randn(3, 4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)]
grads = [[torch.randn_like(p) for p in init] for _ in range(STEPS)]

CONFIGS = {
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_maximize": (torch.optim.SGD, dict(lr=0.1, momentum=0.5, maximize=True)),
    "adam": (torch.optim.Adam, dict(lr=0.01)),
    "adam_wd_amsgrad": (torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    "adamw_amsgrad_maximize": (torch.optim.AdamW, dict(lr=0.01, amsgrad=True, maximize=True)),
}


def write(f, name, t):
    f.write(f"{name} {t.dim()} {' '.join(str(s) for s in t.shape)}\n")
    f.write(" ".join(f"{v:.17g}" for v in t.reshape(-1).tolist()) + "\n")


with open(OUT / "optim_trajectories.txt", "w") as f:
    for i, p in enumerate(init):
        write(f, f"init_p{i}", p)
    for k, step_grads in enumerate(grads):
        for i, g in enumerate(step_grads):
            write(f, f"grad{k}_p{i}", g)
    for name, (cls, kwargs) in CONFIGS.items():
        params = [p.clone().requires_grad_() for p in init]
        opt = cls(params, **kwargs)
        for k in range(STEPS):
            for p, g in zip(params, grads[k]):
                p.grad = g.clone()
            opt.step()
            for i, p in enumerate(params):
                write(f, f"{name}_step{k}_p{i}", p.detach())
    # Two groups: the second with its own lr and momentum.
    params = [p.clone().requires_grad_() for p in init]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.5, "momentum": 0.5}],
                          lr=0.1, momentum=0.9)
    for k in range(STEPS):
        for p, g in zip(params, grads[k]):
            p.grad = g.clone()
        opt.step()
        for i, p in enumerate(params):
            write(f, f"sgd_groups_step{k}_p{i}", p.detach())
