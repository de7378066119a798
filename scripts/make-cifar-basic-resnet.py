#!/usr/bin/python3
"""The CIFAR ResNet18/34 variant (BasicBlock stages of 64-512 channels, 3 x 3 stride-1 stem, no max pool, projection
shortcuts, average pool, `linear` head; torch_resnet.CifarBasicResNet, written independently in PyTorch), with seeded weights and BatchNorm
statistics away from 0 and 1, saved in both of torch.save's serialisations, with its float64 outputs (test oracle).

    /usr/bin/python3 scripts/make-cifar-basic-resnet.py OUT_DIR NAME [CLASSES]

OUT_DIR receives NAME.pth (zip), NAME-legacy.pth (the pre-1.6 format) and NAME.json: two seeded 32 x 32 inputs
(NCHW), the logits and the pooled features in float64, and the check that the saved state dict loads back
strictly into the same architecture.
"""
import json
import os
import sys

import torch
from torch import nn

from torch_resnet import CifarBasicResNet

BLOCKS = {"cifar_resnet18": [2, 2, 2, 2], "cifar_resnet34": [3, 4, 6, 3]}


def main():
    out, name = sys.argv[1], sys.argv[2]
    classes = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    torch.manual_seed(34)
    model = CifarBasicResNet(BLOCKS[name], classes)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, f"{name}.pth"))
    torch.save(model.state_dict(), os.path.join(out, f"{name}-legacy.pth"), _use_new_zipfile_serialization=False)
    again = CifarBasicResNet(BLOCKS[name], classes)
    again.load_state_dict(torch.load(os.path.join(out, f"{name}.pth")), strict=True)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        features, logits = model.double()(x.double())
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump({"input": x.flatten().tolist(), "features": features.flatten().tolist(), "logits": logits.flatten().tolist(), "loadsStrictly": True}, f)


if __name__ == "__main__":
    main()
