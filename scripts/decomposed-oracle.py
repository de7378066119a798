#!/usr/bin/python3
"""Test oracle (Debian python3-torch, python3-torchvision, python3-pil): the paper's ImageNet evaluation of a
ResNet50 with and without a decomposed final layer, computed by PyTorch.

    /usr/bin/python3 scripts/decomposed-oracle.py WEIGHTS.pth MAP.json IMAGE...

Each image goes through the paper authors' preprocessing (PIL, Resize((224, 224)) bilinear, ToTensor, the
ImageNet mean and std); MAP.json is an index map keyed by class number ({"0": [j, ...], ...}, the layout of the
authors' published resnet50_imagenet_indices.json). Prints {"full": [argmax per image], "decomposed": [...]},
the decomposed logit of class y being b_y + sum over j in S_y of W[y, j] f_j.
"""
import json
import sys

import torch
import torchvision
from PIL import Image
from torchvision import transforms as T


def main():
    weights, map_file, *images = sys.argv[1:]
    state = torch.load(weights, map_location="cpu")
    classes = state["fc.weight"].shape[0]
    model = torchvision.models.resnet50(weights=None, num_classes=classes)
    model.load_state_dict(state)
    model.eval()
    transform = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    batch = torch.stack([transform(Image.open(f).convert("RGB")) for f in images])
    sets = json.load(open(map_file))
    mask = torch.zeros(classes, model.fc.in_features)
    for y, s in sets.items():
        mask[int(y), s] = 1
    with torch.no_grad():
        body = torch.nn.Sequential(*list(model.children())[:-1])
        features = torch.flatten(body(batch), 1)
        full = model.fc(features)
        decomposed = features @ (model.fc.weight * mask).T + model.fc.bias
    print(json.dumps({"full": full.argmax(1).tolist(), "decomposed": decomposed.argmax(1).tolist()}))


if __name__ == "__main__":
    main()
