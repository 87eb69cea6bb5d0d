#!/usr/bin/env python3
"""Golden trajectories for tests/engine/test_scheduler.cpp: the value of a scheduled option at
every iteration (the value the iteration trains with, read before the scheduler steps).

    /usr/bin/python3 tests/golden/make_scheduler_golden.py
writes tests/golden/scheduler_trajectories.txt (format of make_optim_golden.py: `<name> 1 <n>`,
then the values).

Where torch.optim.lr_scheduler has the same schedule (begin=0, one scheduler, eta_min=0 where torch
has none) the values come from torch 1.13 stepping a real optimizer. Where MMEngine differs
(begin/end windows, eta_min_ratio, eta_min in Poly, CosineRestart, momentum schedulers,
combinations, the pseudo base group) the values are the CLOSED forms of MMEngine's table
(mmengine/optim/scheduler/param_scheduler.py docstrings; shared/reference/mmengine.md §4.2), which
the chained formulas of the C++ implementation must reproduce.
"""
import math
import pathlib

import torch
from torch.optim import lr_scheduler as S

OUT = pathlib.Path(__file__).resolve().parent
N = 40
BASE = 0.1


def torch_lrs(make, n=N, base=BASE, **opt):
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=base, **opt)
    s = make(o)
    out = []
    for _ in range(n):
        out.append(o.param_groups[0]["lr"])
        o.step()
        s.step()
    return out


def windowed(f, begin, end, base=BASE, n=N):
    """MMEngine's window: the base value before begin, f(k) inside, the last value after."""
    out = []
    for s in range(n):
        if s < begin:
            out.append(base)
        else:
            out.append(f(min(s, end - 1) - begin))
    return out


G = {}
# ---- torch equivalents (begin=0) ---------------------------------------------------------------
G["constant"] = torch_lrs(lambda o: S.ConstantLR(o, factor=0.5, total_iters=9))          # end=10
G["linear"] = torch_lrs(lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=10))  # end=11
G["step"] = torch_lrs(lambda o: S.StepLR(o, step_size=7, gamma=0.5))
G["multistep"] = torch_lrs(lambda o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3))
G["exponential"] = torch_lrs(lambda o: S.ExponentialLR(o, gamma=0.95))
G["cosine"] = torch_lrs(lambda o: S.CosineAnnealingLR(o, T_max=15, eta_min=0.01))
G["poly_torch"] = torch_lrs(lambda o: S.PolynomialLR(o, total_iters=29, power=2.0))      # end=30
G["onecycle"] = torch_lrs(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=40, cycle_momentum=False))
G["onecycle_three_linear"] = torch_lrs(lambda o: S.OneCycleLR(
    o, max_lr=1.0, total_steps=40, pct_start=0.25, anneal_strategy="linear", three_phase=True,
    div_factor=10, final_div_factor=100, cycle_momentum=False))

# ReduceLROnPlateau: one metric per epoch.
METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.889, 0.95, 0.97, 0.99, 0.5, 0.6, 0.6, 0.6, 0.6,
           0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
G["plateau_metrics"] = METRICS


def plateau(**kw):
    p = torch.zeros(1, requires_grad=True)
    o = torch.optim.SGD([p], lr=BASE)
    s = S.ReduceLROnPlateau(o, **kw)
    out = []
    for m in METRICS:
        o.step()
        s.step(m)
        out.append(o.param_groups[0]["lr"])
    return out


G["plateau_less_rel"] = plateau(mode="min", factor=0.5, patience=2, threshold=0.01,
                                threshold_mode="rel", cooldown=1, min_lr=0.01)
G["plateau_greater_abs"] = plateau(mode="max", factor=0.3, patience=1, threshold=0.05,
                                   threshold_mode="abs", cooldown=0, min_lr=0.0)

# ---- MMEngine closed forms -----------------------------------------------------------------------
# CosineAnnealing with eta_min_ratio in the window [5, 30): T_max = end - begin.
G["cosine_ratio_window"] = windowed(
    lambda k: BASE * 0.1 + (BASE - BASE * 0.1) * (1 + math.cos(math.pi * k / 25)) / 2, 5, 30)
# Poly with eta_min, T = end - begin - 1.
G["poly"] = windowed(lambda k: 0.001 + (BASE - 0.001) * (1 - k / 29) ** 2.0, 0, 30)
# Linear in a window [3, 13).
G["linear_window"] = windowed(lambda k: BASE * (0.5 + (1.0 - 0.5) * k / 9), 3, 13)
# MultiStep in a window: milestones relative to begin=4.
G["multistep_window"] = windowed(lambda k: BASE * 0.5 ** sum(1 for m in [3, 10] if m <= k), 4, 30)


# CosineRestart: period i starts at base*w_i and anneals to eta_min; unchanged after the last.
def cosine_restart(k, periods, weights, eta_min):
    c = 0
    for p, w in zip(periods, weights):
        if k < c + p:
            s = k - c
            return eta_min + (BASE * w - eta_min) * (1 + math.cos(math.pi * s / p)) / 2
        c += p
    return cosine_restart(c - 1, periods, weights, eta_min)


G["cosine_restart"] = [cosine_restart(k, [10, 15, 10], [1, 0.5, 0.25], 0.001) for k in range(N)]


# LinearLR warm-up over iterations [0, 5) then MultiStepLR by epoch (milestones 2, 4; 8 iterations
# an epoch): the chained factors multiply.
def warmup_multistep(i):
    k = min(i, 4)
    e = i // 8
    return BASE * (0.1 + 0.9 * k / 4) * 0.1 ** sum(1 for m in [2, 4] if m <= e)


G["warmup_multistep"] = [warmup_multistep(i) for i in range(N)]


# LinearLR warm-up [0, 8) then CosineAnnealingLR by epoch begin=1 end=5 converted to iterations
# (epoch_length 8: begin 8, end 40, T_max = 32).
def warmup_cosine(i):
    if i < 8:
        return BASE * (0.2 + 0.8 * i / 7)
    return BASE * (1 + math.cos(math.pi * (i - 8) / 32)) / 2


G["warmup_cosine_iter"] = [warmup_cosine(i) for i in range(N)]

# Momentum: CosineAnnealingMomentum on SGD momentum 0.9, eta_min 0.5, T_max 20.
G["momentum_cosine"] = [0.5 + (0.9 - 0.5) * (1 + math.cos(math.pi * k / 20)) / 2 for k in range(N)]
# StepMomentum on Adam's beta1 0.9 (step 10, gamma 0.5).
G["adam_beta1_step"] = [0.9 * 0.5 ** (k // 10) for k in range(N)]
# Two groups (lr 0.1 and 0.02; the optimizer's default 0.1 is the pseudo base group), Exponential.
G["groups_g0"] = [0.1 * 0.9 ** k for k in range(N)]
G["groups_g1"] = [0.02 * 0.9 ** k for k in range(N)]
G["groups_base"] = [0.1 * 0.9 ** k for k in range(N)]
# The generic scheduler on weight_decay (1e-2): Linear from 0.5 to 1 over [0, 20).
G["weight_decay_linear"] = windowed(lambda k: 1e-2 * (0.5 + 0.5 * k / 19), 0, 20, base=1e-2)

with open(OUT / "scheduler_trajectories.txt", "w") as f:
    for name, values in G.items():
        f.write(f"{name} 1 {len(values)}\n")
        f.write(" ".join(f"{v:.17g}" for v in values) + "\n")
