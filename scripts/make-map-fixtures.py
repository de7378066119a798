#!/usr/bin/python3
"""Writes test/fixtures/maps/bilinear.json: seeded maps and PyTorch's bilinear resize of each
(torch.nn.functional.interpolate, mode="bilinear", align_corners=False, output size given), the oracle for
src/method/maps.ts's upsampleBilinear (test oracle only, never product code).

Run with Debian's python (torch 1.13):  /usr/bin/python3 scripts/make-map-fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "maps", "bilinear.json")
# (input height, width) -> (output height, width): the CIFAR maps' 8x8 -> 32x32, ImageNet-sized 7x7 maps by a
# non-integer factor, and odd, non-square factors, one of them shrinking an axis.
CASES = [((8, 8), (32, 32)), ((7, 7), (60, 60)), ((5, 3), (17, 11)), ((4, 6), (9, 4)), ((1, 2), (3, 5))]


def main():
    gen = torch.Generator().manual_seed(0)
    cases = []
    for (h, w), (oh, ow) in CASES:
        x = torch.randn(1, 1, h, w, generator=gen, dtype=torch.float64)
        y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)
        cases.append({"height": h, "width": w, "outHeight": oh, "outWidth": ow,
                      "input": x.flatten().tolist(), "output": y.flatten().tolist()})
    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
