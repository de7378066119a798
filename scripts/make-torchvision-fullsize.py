#!/usr/bin/python3
"""One full-size torchvision 0.14 model with seeded random weights and BatchNorm statistics, and its reference
outputs on real images through torchvision's own preprocessing, for test/models/torchvision-fullsize.test.ts
(run at test time: the checkpoints are hundreds of megabytes, too big to commit).

    /usr/bin/python3 scripts/make-torchvision-fullsize.py MODEL IMAGES.u8 COUNT OUT_DIR [--legacy]

IMAGES.u8 holds COUNT raw 32 x 32 RGB images (uint8, HWC). Each goes through the model weight's evaluation preset
(torchvision.transforms on PIL images: Resize, CenterCrop, ToTensor, Normalize, exactly ImageClassification's
steps) and the model; OUT_DIR receives MODEL.pth (zip serialisation, or the legacy one with --legacy; DenseNets
under the published files' legacy key names), inputs.f32 (the preprocessed NCHW batch), logits.f32 and
features.f32 (float32 of float64 computations), and meta.json.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torch.nn import functional as F
from torchvision import transforms as T

from torchvision_oracle import legacy_densenet_key, randomise


def pooled_features(name, model, x):
    """The penultimate features: what the global average pool gives the final linear layer."""
    if name.startswith("densenet"):
        return torch.flatten(F.adaptive_avg_pool2d(F.relu(model.features(x)), (1, 1)), 1)
    if name.startswith("efficientnet"):
        return torch.flatten(model.avgpool(model.features(x)), 1)
    m = model
    y = m.maxpool(m.relu(m.bn1(m.conv1(x))))
    y = m.layer4(m.layer3(m.layer2(m.layer1(y))))
    return torch.flatten(m.avgpool(y), 1)


def main():
    name, images_file, count, out_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    legacy = "--legacy" in sys.argv[5:]
    weights = torchvision.models.get_model_weights(name).IMAGENET1K_V1
    preset = weights.transforms()
    steps = T.Compose([
        T.Resize(preset.resize_size, interpolation=preset.interpolation),
        T.CenterCrop(preset.crop_size),
        T.ToTensor(),
        T.Normalize(preset.mean, preset.std),
    ])
    raw = np.fromfile(images_file, dtype=np.uint8).reshape(count, 32, 32, 3)
    x = torch.stack([steps(Image.fromarray(img)) for img in raw])
    # ImageClassification's own output on the same images: the steps above are that preset.
    assert torch.allclose(x, torch.stack([preset(Image.fromarray(img)) for img in raw]))

    model = torchvision.models.get_model(name, weights=None)
    generator = torch.Generator().manual_seed(sum(map(ord, name)))
    # Gain 1 rather than Kaiming's 2: with BatchNorm statistics that do not match the data, deep MBConv stacks
    # otherwise grow activations into the thousands, and a float64 reference then charges the executors with
    # float32 rounding amplified a thousandfold.
    randomise(model, generator, gain=1.0)
    model.eval()
    model64 = model.double()
    with torch.no_grad():
        features = pooled_features(name, model64, x.double())
        logits = model64(x.double())
        head = model64.fc if hasattr(model64, "fc") else model64.classifier[-1] if name.startswith("efficientnet") else model64.classifier
        assert torch.allclose(head(features), logits)
    state = {k: v.float() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    if name.startswith("densenet"):
        state = {legacy_densenet_key(k): v for k, v in state.items()}
    os.makedirs(out_dir, exist_ok=True)
    torch.save(state, os.path.join(out_dir, name + ".pth"), _use_new_zipfile_serialization=not legacy)
    x.numpy().astype("<f4").tofile(os.path.join(out_dir, "inputs.f32"))
    logits.numpy().astype("<f4").tofile(os.path.join(out_dir, "logits.f32"))
    features.numpy().astype("<f4").tofile(os.path.join(out_dir, "features.f32"))
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump({"model": name, "count": count, "inputShape": list(x.shape), "classes": logits.shape[1], "featureWidth": features.shape[1],
                   "serialisation": "legacy" if legacy else "zip", "torch": torch.__version__, "torchvision": torchvision.__version__,
                   "preset": {"resize": preset.resize_size, "crop": preset.crop_size, "interpolation": str(preset.interpolation)}}, f)


if __name__ == "__main__":
    main()
