#!/usr/bin/python3
"""Test oracle (Debian python3-torch, python3-onnx): what PyTorch and ONNX's own checker make of the files
`decomp export` writes (never product code).

    /usr/bin/python3 scripts/export-oracle.py pth DEPTH STATE.pth IMAGES.npy   # CIFAR ResNet, strict load
    /usr/bin/python3 scripts/export-oracle.py onnx MODEL.onnx                   # onnx.checker.check_model

pth: builds the option-A CIFAR ResNet of that depth (scripts/torch_resnet.py), loads the state dict with
strict=True, and prints {"predictions": [argmax per image]} for IMAGES.npy (N x 3 x 32 x 32, normalised). onnx:
runs the full checker and prints {"checked": true, "opset": N}.
"""
import json
import sys

import numpy as np


def main():
    kind = sys.argv[1]
    if kind == "pth":
        import torch
        from torch_resnet import CifarResNet

        depth, state, images = int(sys.argv[2]), sys.argv[3], sys.argv[4]
        model = CifarResNet(depth)
        model.load_state_dict(torch.load(state, map_location="cpu"), strict=True)
        model.eval()
        with torch.no_grad():
            _, logits = model(torch.from_numpy(np.load(images)))
        print(json.dumps({"predictions": logits.argmax(1).tolist()}))
    elif kind == "onnx":
        import onnx

        model = onnx.load(sys.argv[2])
        onnx.checker.check_model(model, full_check=True)
        print(json.dumps({"checked": True, "opset": model.opset_import[0].version}))
    else:
        raise SystemExit(f"unknown oracle {kind}")


if __name__ == "__main__":
    main()
