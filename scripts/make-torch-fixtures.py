"""Writes the PyTorch checkpoint fixtures in test/fixtures/torch/ and the values torch itself reads back.

Run from the repository root with the Debian python that has torch (a test oracle, never product code):
    /usr/bin/python3 scripts/make-torch-fixtures.py
The same small state dict is saved in the legacy and the zip format; expected.json holds what torch reads
from each, plus spot values and per-tensor sums of the mirrored CIFAR ResNet checkpoints when they exist.
"""
import collections
import json
import os
import zipfile

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "torch")
MIRROR = os.path.join(ROOT, "..", "shared", "mirror", "pytorch_resnet_cifar10")


def small_state_dict():
    g = torch.Generator().manual_seed(7)
    sd = collections.OrderedDict()
    sd["module.conv.weight"] = torch.randn(2, 3, 2, 2, generator=g)
    sd["module.conv.bias"] = torch.randn(2, generator=g, dtype=torch.float64)
    sd["module.half"] = torch.tensor([0.5, -2.25, 65504.0, 1e-7], dtype=torch.float16)
    sd["module.bn.num_batches_tracked"] = torch.tensor(123456789012, dtype=torch.int64)
    sd["module.long_vec"] = torch.tensor([-3, 0, 2**40], dtype=torch.int64)
    sd["module.int32"] = torch.tensor([[-7, 8], [2**31 - 1, -(2**31)]], dtype=torch.int32)
    sd["module.int16"] = torch.tensor([-32768, 1, 32767], dtype=torch.int16)
    sd["module.int8"] = torch.tensor([-128, -1, 0, 127], dtype=torch.int8)
    sd["module.uint8"] = torch.tensor([0, 1, 200, 255], dtype=torch.uint8)
    sd["module.mask"] = torch.tensor([True, False, True])
    sd["module.empty"] = torch.zeros(0, 3)
    # Non-contiguous views: a transpose, and a strided slice that starts inside its storage.
    base = torch.arange(20, dtype=torch.float32).reshape(4, 5) / 4
    sd["module.transposed"] = torch.randn(3, 4, generator=g).t()
    sd["module.strided"] = base[1:, ::2]
    # Two tensors cut from one storage: each must keep its own offset.
    shared = torch.arange(10, dtype=torch.float32) - 4.5
    sd["module.shared_a"] = shared[:4]
    sd["module.shared_b"] = shared[4:].view(2, 3)
    sd["module.param"] = torch.nn.Parameter(torch.tensor([1.5, -0.25]))
    # A real state_dict carries _metadata, which pickles as a BUILD on the OrderedDict.
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    return {"state_dict": sd, "best_prec1": 42.125, "epoch": 7, "arch": "tiny"}


def expected_tensors(state_dict):
    out = collections.OrderedDict()
    for key, t in state_dict.items():
        name = key[len("module."):] if key.startswith("module.") else key
        out[name] = {"shape": list(t.shape), "values": t.detach().to(torch.float32).flatten().tolist()}
    return out


def resnet_expectations(path, per_tensor):
    """Per-tensor sums and spot values for one checkpoint; totals only for the rest, to keep the fixture small."""
    ck = torch.load(path, map_location="cpu")
    sd = ck["state_dict"]
    flat_all = torch.cat([t.to(torch.float64).flatten() for t in sd.values()])
    out = {
        "meta": {k: v for k, v in ck.items() if k != "state_dict"},
        "count": len(sd),
        "elements": flat_all.numel(),
        "sum": flat_all.sum().item(),
        "abs_sum": flat_all.abs().sum().item(),
    }
    if per_tensor:
        tensors = collections.OrderedDict()
        for key, t in sd.items():
            flat = t.to(torch.float32).flatten()
            # First, middle and last element pin the layout, not just the totals.
            spot = [[i, flat[i].item()] for i in sorted({0, flat.numel() // 2, flat.numel() - 1})]
            tensors[key[len("module."):]] = {"shape": list(t.shape), "sum": flat.double().sum().item(), "spot": spot}
        out["tensors"] = tensors
    return out


def deflated_copy(source, target):
    """torch writes stored entries; other zip tools may deflate them, which torch.load also accepts."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


FIXTURES = ("small-legacy.th", "small-zip.pth", "small-zip-protocol4.pth", "small-zip-deflated.pth", "bare-state-dict.th")


def main():
    os.makedirs(OUT, exist_ok=True)
    ck = small_state_dict()
    torch.save(ck, os.path.join(OUT, "small-legacy.th"), _use_new_zipfile_serialization=False)
    torch.save(ck, os.path.join(OUT, "small-zip.pth"))
    torch.save(ck, os.path.join(OUT, "small-zip-protocol4.pth"), pickle_protocol=4)
    bare = collections.OrderedDict([("fc.weight", torch.tensor([[1.0, 2.0], [3.0, 4.0]])), ("fc.bias", torch.tensor([0.5, -0.5]))])
    torch.save(bare, os.path.join(OUT, "bare-state-dict.th"), _use_new_zipfile_serialization=False)
    deflated_copy(os.path.join(OUT, "small-zip.pth"), os.path.join(OUT, "small-zip-deflated.pth"))
    expected = {"torch_version": torch.__version__, "small": {}, "resnet": {}}
    for name in FIXTURES:
        loaded = torch.load(os.path.join(OUT, name))
        state_dict = loaded.get("state_dict", loaded)
        expected["small"][name] = {
            "meta": {k: v for k, v in loaded.items() if k != "state_dict"} if state_dict is not loaded else {},
            "tensors": expected_tensors(state_dict),
        }
    if os.path.isdir(MIRROR):
        for file in sorted(os.listdir(MIRROR)):
            if file.endswith(".th"):
                expected["resnet"][file] = resnet_expectations(os.path.join(MIRROR, file), file.startswith("resnet20-"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
