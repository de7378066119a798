#!/usr/bin/python3
"""Writes test/fixtures/parity/stages.json: the globally average-pooled output of each stage (layer1, layer2,
layer3) of the pretrained CIFAR ResNet20, in float64 PyTorch on the parity fixture's 8 inputs (test oracle only).

Run with Debian's python (torch 1.13):  /usr/bin/python3 scripts/make-stage-fixture.py
Reads test/fixtures/parity/parity.{json,bin} (scripts/make-parity-fixtures.py) for the inputs.
"""
import json
import os

import numpy as np
import torch

from torch_resnet import CifarResNet, load_state

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARITY = os.path.join(ROOT, "test", "fixtures", "parity")
CHECKPOINT = os.path.join(ROOT, "..", "shared", "mirror", "pytorch_resnet_cifar10", "resnet20-12fca82f.th")


def main():
    header = json.load(open(os.path.join(PARITY, "parity.json")))
    entry = header["arrays"]["inputs"]
    raw = open(os.path.join(PARITY, "parity.bin"), "rb").read()
    count = int(np.prod(entry["shape"]))
    inputs = np.frombuffer(raw, dtype="<f4", count=count, offset=entry["offset"]).reshape(entry["shape"])

    model = CifarResNet(20)
    model.load_state_dict(load_state(CHECKPOINT), strict=True)
    model = model.eval().double()
    pooled = {}
    for name in ("layer1", "layer2", "layer3"):
        getattr(model, name).register_forward_hook(lambda _m, _i, out, name=name: pooled.__setitem__(name, out.mean(dim=(2, 3))))
    with torch.no_grad():
        model(torch.from_numpy(inputs.astype(np.float64)).permute(0, 3, 1, 2).contiguous())
    out = {"model": "resnet20", "checkpoint": os.path.basename(CHECKPOINT), "inputs": "parity.bin 'inputs' (8 images, NHWC, normalised)",
           "reference": "PyTorch float64, forward hooks on layer1-3, mean over H and W",
           "stages": {name: {"width": int(v.shape[1]), "features": v.numpy().ravel().tolist()} for name, v in pooled.items()}}
    with open(os.path.join(PARITY, "stages.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
