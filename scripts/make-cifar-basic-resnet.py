#!/usr/bin/python3
"""The CIFAR ResNet18/34 variant (BasicBlock stages of 64-512 channels, 3 x 3 stride-1 stem, no max pool, projection
shortcuts, average pool, `linear` head) written independently in PyTorch, with seeded weights and BatchNorm
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
import torch.nn.functional as F

BLOCKS = {"cifar_resnet18": [2, 2, 2, 2], "cifar_resnet34": [3, 4, 6, 3]}


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.shortcut(x))


class Net(nn.Module):
    def __init__(self, blocks, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin, stages = 64, []
        for i, (width, count) in enumerate(zip([64, 128, 256, 512], blocks)):
            layer = []
            for b in range(count):
                layer.append(Block(cin, width, 2 if i > 0 and b == 0 else 1))
                cin = width
            stages.append(nn.Sequential(*layer))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(512, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        features = F.avg_pool2d(x, 4).flatten(1)
        return features, self.linear(features)


def main():
    out, name = sys.argv[1], sys.argv[2]
    classes = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    torch.manual_seed(34)
    model = Net(BLOCKS[name], classes)
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
    again = Net(BLOCKS[name], classes)
    again.load_state_dict(torch.load(os.path.join(out, f"{name}.pth")), strict=True)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        features, logits = model.double()(x.double())
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump({"input": x.flatten().tolist(), "features": features.flatten().tolist(), "logits": logits.flatten().tolist(), "loadsStrictly": True}, f)


if __name__ == "__main__":
    main()
