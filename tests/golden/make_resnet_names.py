#!/usr/bin/env python3
"""torchvision's ResNet state-dict names and shapes, for tests/nn/test_models.cpp: anvil's ResNets
must have the same keys in the same order with the same shapes, so torchvision weights saved as
safetensors load unchanged.

    /usr/bin/python3 tests/golden/make_resnet_names.py
writes tests/golden/resnet<depth>_state_dict.txt: one line per entry, "<name> <dims...>".
"""
import pathlib

import torchvision

OUT = pathlib.Path(__file__).resolve().parent

for depth in (18, 50):
    model = getattr(torchvision.models, f"resnet{depth}")(num_classes=1000)
    with open(OUT / f"resnet{depth}_state_dict.txt", "w") as f:
        for name, t in model.state_dict().items():
            f.write(" ".join([name] + [str(s) for s in t.shape]) + "\n")
