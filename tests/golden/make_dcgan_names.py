#!/usr/bin/env python3
"""State-dict names and shapes of the PyTorch DCGAN example's networks, for tests/nn/test_dcgan.cpp:
anvil's DCGANGenerator / DCGANDiscriminator must have the same keys, order and shapes.

    /usr/bin/python3 tests/golden/make_dcgan_names.py
writes tests/golden/dcgan_state_dicts.txt: one line per entry, "<model> <name> <dims...>", for
the example's 64x64 networks (nz=100, ngf=ndf=64, nc=3, model g64 / d64) and the 28x28 variant
(7 -> 14 -> 28; nz=64, ngf=ndf=32, nc=1, model g28 / d28).
"""
import pathlib

import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parent


def generator(nz, ngf, nc, start, stages):
    ch = ngf * 2 ** (stages - 1)
    layers = [nn.ConvTranspose2d(nz, ch, start, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
    for _ in range(stages - 1):
        layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2),
                   nn.ReLU(True)]
        ch //= 2
    layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
    model = nn.Module()
    model.main = nn.Sequential(*layers)
    return model


def discriminator(ndf, nc, start, stages):
    layers = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    ch = ndf
    for _ in range(stages - 1):
        layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2),
                   nn.LeakyReLU(0.2, inplace=True)]
        ch *= 2
    layers += [nn.Conv2d(ch, 1, start, 1, 0, bias=False), nn.Sigmoid()]
    model = nn.Module()
    model.main = nn.Sequential(*layers)
    return model


models = {
    "g64": generator(100, 64, 3, 4, 4),
    "d64": discriminator(64, 3, 4, 4),
    "g28": generator(64, 32, 1, 7, 2),
    "d28": discriminator(32, 1, 7, 2),
}
with open(OUT / "dcgan_state_dicts.txt", "w") as f:
    for key, model in models.items():
        for name, t in model.state_dict().items():
            f.write(" ".join([key, name] + [str(s) for s in t.shape]) + "\n")
