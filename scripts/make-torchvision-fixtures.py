#!/usr/bin/python3
"""Reduced torchvision ResNets (fewer blocks, narrower stages, built with torchvision 0.14's own blocks and
_make_layer) and DenseNets (torchvision's DenseNet class with a small growth rate and few layers) with seeded
random weights and non-trivial BatchNorm statistics, saved in both serialisations, with
inputs and torchvision's float64 logits and pooled features, for test/models/torchvision-resnet.test.ts.
Run: /usr/bin/python3 scripts/make-torchvision-fixtures.py"""
import json
import os

import numpy as np
import torch
import torchvision
from torch import nn
from torch.nn import functional as F
from torchvision.models import DenseNet
from torchvision.models.efficientnet import EfficientNet, MBConvConfig
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

from torchvision_oracle import legacy_densenet_key, randomise

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torchvision")
CONFIGS = {
    # name: (block, blocks, stem, planes, width_per_group, classes, input side)
    "tv-basic": ("basic", [1, 1, 2, 1], 8, [8, 16, 24, 32], 64, 7, 45),
    "tv-bottleneck": ("bottleneck", [1, 2, 1, 1], 8, [8, 16, 16, 32], 64, 5, 40),
    "tv-wide": ("bottleneck", [1, 1, 1, 1], 8, [8, 8, 16, 16], 128, 3, 33),
}
DENSENETS = {
    # name: (growth rate, block config, initial features, bn_size, classes, input side)
    "tv-densenet": (4, [2, 3, 2, 1], 8, 2, 6, 37),
    "tv-densenet3": (6, [1, 2, 2], 12, 4, 4, 30),
}
EFFICIENTNETS = {
    # name: (stage table: expand ratio, kernel, stride, input, output, blocks; width and depth multipliers; classes; side)
    "tv-efficientnet": ([[1, 3, 1, 8, 8, 1], [4, 3, 2, 8, 16, 2], [4, 5, 2, 16, 24, 1], [2, 3, 1, 24, 24, 2]], 1.0, 1.0, 5, 35),
    "tv-efficientnet-scaled": ([[1, 3, 1, 8, 8, 1], [6, 5, 2, 8, 16, 1], [3, 3, 2, 16, 24, 2]], 1.2, 1.4, 4, 29),
}


def build(block, blocks, stem, planes, width_per_group, classes):
    kind = BasicBlock if block == "basic" else Bottleneck
    model = ResNet(kind, [1, 1, 1, 1], num_classes=classes, width_per_group=width_per_group)
    # Narrow the stem and stages with torchvision's own layer builder, so each block is torchvision's.
    model.inplanes = stem
    model.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(stem)
    model.layer1 = model._make_layer(kind, planes[0], blocks[0])
    model.layer2 = model._make_layer(kind, planes[1], blocks[1], stride=2)
    model.layer3 = model._make_layer(kind, planes[2], blocks[2], stride=2)
    model.layer4 = model._make_layer(kind, planes[3], blocks[3], stride=2)
    model.fc = nn.Linear(planes[3] * kind.expansion, classes)
    return model


def densenet_forward(model, x):
    features = torch.flatten(F.adaptive_avg_pool2d(F.relu(model.features(x)), (1, 1)), 1)
    logits = model.classifier(features)
    assert torch.allclose(logits, model(x))
    return features, logits


def efficientnet_forward(model, x):
    features = torch.flatten(model.avgpool(model.features(x)), 1)
    logits = model.classifier(features)
    assert torch.allclose(logits, model(x))
    return features, logits


def forward(model, x):
    m = model
    y = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    y = m.layer4(m.layer3(m.layer2(m.layer1(y))))
    features = torch.flatten(m.avgpool(y), 1)
    logits = m.fc(features)
    assert torch.allclose(logits, m(x))
    return features, logits


def main():
    os.makedirs(OUT, exist_ok=True)
    header = {"torch": torch.__version__, "torchvision": torchvision.__version__, "layout": "NHWC inputs", "models": {}}
    blobs = []
    offset = 0
    def add(name, seed, model, side, entry, run, legacy_keys=None):
        nonlocal offset
        generator = torch.Generator().manual_seed(seed)
        randomise(model, generator)
        model.eval()
        state = model.state_dict()
        torch.save(state, os.path.join(OUT, f"{name}.pth"))
        legacy = state if legacy_keys is None else {legacy_keys(k): v for k, v in state.items()}
        torch.save(legacy, os.path.join(OUT, f"{name}-legacy.pth"), _use_new_zipfile_serialization=False)
        x = torch.randn((3, 3, side, side), generator=generator)
        with torch.no_grad():
            features, logits = run(model.double(), x.double())
        entry = {**entry, "classes": int(logits.shape[1]), "inputSize": side, "arrays": {}}
        for key, array in (("inputs", x.permute(0, 2, 3, 1).numpy()), ("features", features.numpy()), ("logits", logits.numpy())):
            data = np.ascontiguousarray(array, dtype=np.float32)
            entry["arrays"][key] = {"offset": offset, "shape": list(data.shape)}
            blobs.append(data.tobytes())
            offset += data.nbytes
        header["models"][name] = entry

    seed = 0
    for name, (block, blocks, stem, planes, wpg, classes, side) in CONFIGS.items():
        add(name, seed, build(block, blocks, stem, planes, wpg, classes), side,
            {"family": "resnet", "block": block, "blocks": blocks, "stem": stem, "planes": planes, "widthPerGroup": wpg}, forward)
        seed += 1
    # The published DenseNet files name dense-layer parameters norm.1, conv.2, ...: the legacy copies do too.
    legacy_dense = legacy_densenet_key
    for name, (growth, blocks, init, bn_size, classes, side) in DENSENETS.items():
        model = DenseNet(growth_rate=growth, block_config=tuple(blocks), num_init_features=init, bn_size=bn_size, num_classes=classes)
        add(name, seed, model, side, {"family": "densenet", "growthRate": growth, "blocks": blocks, "initFeatures": init, "bnSize": bn_size}, densenet_forward, legacy_dense)
        seed += 1
    for name, (stages, width_mult, depth_mult, classes, side) in EFFICIENTNETS.items():
        setting = [MBConvConfig(*row, width_mult=width_mult, depth_mult=depth_mult) for row in stages]
        model = EfficientNet(setting, dropout=0.2, num_classes=classes)
        add(name, seed, model, side, {"family": "efficientnet", "stages": stages, "widthMult": width_mult, "depthMult": depth_mult}, efficientnet_forward)
        seed += 1
    with open(os.path.join(OUT, "arrays.bin"), "wb") as f:
        f.write(b"".join(blobs))
    with open(os.path.join(OUT, "fixtures.json"), "w") as f:
        json.dump(header, f, indent=1)


main()
