#!/usr/bin/python3
"""Test oracle (Debian python3-torchvision): torchvision's ImageFolder order of a folder, as JSON
{"classes": [...], "samples": [[path, class index], ...]}.
    /usr/bin/python3 scripts/imagefolder-order.py DIR
"""
import json
import sys

from torchvision.datasets import ImageFolder

folder = ImageFolder(sys.argv[1])
print(json.dumps({"classes": folder.classes, "samples": folder.samples}))
