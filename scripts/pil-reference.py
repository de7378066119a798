#!/usr/bin/python3
"""Test oracle (Debian python3-pil + python3-torchvision): Pillow's and torchvision's view of image files.

    /usr/bin/python3 scripts/pil-reference.py OUT.u8 RECIPE_JSON FILE...

RECIPE_JSON is {"kind": "decode"} (Image.open(f).convert("RGB") only), {"kind": "resize-crop", "resize", "crop",
"interpolation"} (torchvision's Resize(int) + CenterCrop on the PIL image) or {"kind": "squash", "size",
"interpolation"} (Resize((size, size))). OUT.u8 receives the results' bytes (uint8 HWC) one after another; the
shapes are printed as JSON.
"""
import json
import sys

import numpy as np
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode as IM

MODES = {"bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC}


def main():
    out, recipe, files = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    if recipe["kind"] == "decode":
        step = lambda im: im
    elif recipe["kind"] == "squash":
        step = T.Resize((recipe["size"], recipe["size"]), interpolation=MODES[recipe["interpolation"]])
    else:
        step = T.Compose([T.Resize(recipe["resize"], interpolation=MODES[recipe["interpolation"]]), T.CenterCrop(recipe["crop"])])
    shapes = []
    with open(out, "wb") as f:
        for name in files:
            arr = np.asarray(step(Image.open(name).convert("RGB")), dtype=np.uint8)
            shapes.append(list(arr.shape))
            f.write(arr.tobytes())
    print(json.dumps(shapes))


if __name__ == "__main__":
    main()
