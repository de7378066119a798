#!/usr/bin/python3
"""A dataset of one's own and the answers PyTorch gives on it (test oracle only, never product code), for
test/data/image-folder.test.ts.

    /usr/bin/python3 scripts/make-folder-fixture.py OUT_DIR

Writes OUT_DIR/tree in ImageFolder's layout: 7 classes, train/ and val/, images of assorted sizes as RGB JPEG,
PNG and WebP, greyscale JPEG and PNG, palette PNG and CMYK JPEG (Pillow). OUT_DIR/model.onnx is a torchvision
ResNet18 with 7 outputs and seeded random weights, exported for 64 x 64 inputs with a dynamic batch; the same
network in PyTorch reads both splits through torchvision's ImageFolder (Pillow's convert("RGB")) and the
transforms decomp's default gives a 64 x 64 imported model (Resize(73), CenterCrop(64), ImageNet's mean and
std), and OUT_DIR/oracle.json records Algorithm 1 on the training features (k1 = 8, k2 = 6; ties to the lower
index, as src/method/influential.ts), the full and decomposed accuracy on val/, and the class order.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

from torchvision_oracle import randomise

CLASSES = ["ant", "Bee", "cat", "dog-2", "eel", "fox", "gnu"]
K1, K2, SIDE = 8, 6, 64


def write_image(path, rng, kind, tint):
    h, w = int(rng.integers(48, 97)), int(rng.integers(48, 97))
    # Smooth blocks rather than noise, so JPEG keeps them, over a colour of the class's own.
    blocks = rng.integers(0, 256, size=(h // 8 + 1, w // 8 + 1, 3))
    pixels = (0.35 * blocks + 0.65 * np.array(tint)).astype(np.uint8)
    rgb = Image.fromarray(pixels).resize((w, h), Image.BILINEAR)
    if kind == "jpg":
        rgb.save(path + ".jpg", quality=92)
    elif kind == "png":
        rgb.save(path + ".png")
    elif kind == "webp":
        rgb.save(path + ".webp", lossless=True)
    elif kind == "grey-jpg":
        rgb.convert("L").save(path + ".JPEG", quality=90)
    elif kind == "grey-png":
        rgb.convert("L").save(path + ".png")
    elif kind == "palette":
        rgb.convert("P", palette=Image.ADAPTIVE, colors=32).save(path + ".png")
    elif kind == "cmyk":
        rgb.convert("CMYK").save(path + ".jpg", quality=92)


def algorithm1(features, labels, classes):
    order = np.argsort(-features, axis=1, kind="stable")[:, :K1]
    sets = []
    for c in range(classes):
        counts = np.bincount(order[labels == c].ravel(), minlength=features.shape[1])
        sets.append(sorted(np.argsort(-counts, kind="stable")[:K2].tolist()))
    return sets


def main():
    out = sys.argv[1]
    tree = os.path.join(out, "tree")
    rng = np.random.default_rng(7)
    kinds = ["jpg", "png", "webp", "grey-jpg", "grey-png", "palette", "cmyk"]
    tints = rng.integers(0, 256, size=(len(CLASSES), 3))
    for split, per_class in (("train", 9), ("val", 4)):
        for c, name in enumerate(CLASSES):
            folder = os.path.join(tree, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                write_image(os.path.join(folder, f"{name}_{i:02d}"), rng, kinds[(c + i) % len(kinds)], tints[c])
    generator = torch.Generator().manual_seed(11)
    model = torchvision.models.resnet18(weights=None, num_classes=len(CLASSES))
    randomise(model, generator, gain=1.0)
    model.eval()
    caught = {}
    model.fc.register_forward_hook(lambda module, inputs, output: caught.__setitem__("features", inputs[0].detach()))
    transform = T.Compose([T.Resize(73), T.CenterCrop(SIDE), T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    # A random backbone under a head that tells the classes apart (a diagonal linear discriminant on its training
    # features: class centroids over each feature's variance), so the accuracies mean something.
    train = torchvision.datasets.ImageFolder(os.path.join(tree, "train"), transform=transform)
    with torch.no_grad():
        model(torch.stack([x for x, _ in train]))
        labels = torch.tensor([y for _, y in train])
        f = caught["features"]
        centred = torch.stack([f[labels == c].mean(0) for c in range(len(CLASSES))]) - f.mean(0)
        variance = f.var(0) + 1e-3
        model.fc.weight.copy_(centred / variance)
        model.fc.bias.copy_(-0.5 * (centred**2 / variance).sum(1))
    torch.onnx.export(model, torch.zeros(1, 3, SIDE, SIDE), os.path.join(out, "model.onnx"), opset_version=17, input_names=["images"], output_names=["logits"], dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    result = {}
    for split in ("train", "val"):
        data = torchvision.datasets.ImageFolder(os.path.join(tree, split), transform=transform)
        batch = torch.stack([x for x, _ in data])
        labels = np.array([y for _, y in data])
        with torch.no_grad():
            logits = model(batch).numpy()
        result[split] = {"features": caught["features"].numpy(), "logits": logits, "labels": labels, "classes": data.classes}
    sets = algorithm1(result["train"]["features"], result["train"]["labels"], len(CLASSES))
    val = result["val"]
    w, b = model.fc.weight.detach().numpy(), model.fc.bias.detach().numpy()
    mask = np.zeros_like(w)
    for c, s in enumerate(sets):
        mask[c, s] = 1
    decomposed = val["features"] @ (w * mask).T + b
    with open(os.path.join(out, "oracle.json"), "w") as f:
        json.dump({
            "classes": val["classes"], "k1": K1, "k2": K2, "sets": sets, "trainImages": len(result["train"]["labels"]), "valImages": len(val["labels"]),
            "fullAccuracy": float((val["logits"].argmax(1) == val["labels"]).mean()), "decomposedAccuracy": float((decomposed.argmax(1) == val["labels"]).mean()),
        }, f)


if __name__ == "__main__":
    main()
