#!/usr/bin/python3
"""Architectures the registry does not know, exported to ONNX by Debian's torch (test oracle only, never product
code), with the outputs torch computes, for test/models/onnx-import.test.ts.

    /usr/bin/python3 scripts/make-onnx-imports.py OUT_DIR SIDE MODEL[:OPSET[:nhwc]][@SIDE] ...

Each MODEL is a torchvision 0.14 classifier built with seeded random weights and BatchNorm statistics away from
1 and 0 (torchvision_oracle.randomise), in eval mode, and exported with torch.onnx.export at the given opset
(default 17) with a dynamic batch and a fixed SIDE x SIDE input (a model's own @SIDE where its pooling needs one:
VGG's 7 x 7 adaptive pool exports only for multiples of 224); `nhwc` puts a permute in front, so the graph
takes [N, H, W, 3]. OUT_DIR receives per model NAME.onnx (NAME = model-opsetN[-nhwc]) and NAME-input.npy (two
random images, NCHW, or NHWC for nhwc), NAME-logits.npy and NAME-features.npy (the input of the last nn.Linear,
caught by a forward hook); squeezenet has no Linear, so it gets no features file.
"""
import os
import sys

import numpy as np
import torch
import torchvision

from torchvision_oracle import randomise


class ChannelsLast(torch.nn.Module):
    """A model that takes NHWC images: a permute in front of the NCHW network."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.permute(0, 3, 1, 2))


def main():
    out, side, specs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    for spec in specs:
        spec, _, own_side = spec.partition("@")
        size = int(own_side) if own_side else side
        parts = spec.split(":")
        name, opset, nhwc = parts[0], int(parts[1]) if len(parts) > 1 else 17, len(parts) > 2 and parts[2] == "nhwc"
        generator = torch.Generator().manual_seed(sum(map(ord, name)))
        kwargs = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
        model = torchvision.models.get_model(name, weights=None, num_classes=7, **kwargs)
        randomise(model, generator, gain=1.0)
        model.eval()
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        caught = {}

        def catch(module, inputs, output):
            caught["features"] = inputs[0].detach().clone()

        hook = linears[-1].register_forward_hook(catch) if linears else None
        net = ChannelsLast(model) if nhwc else model
        x = torch.randn((2, size, size, 3) if nhwc else (2, 3, size, size), generator=generator)
        with torch.no_grad():
            logits = net(x)
        if hook is not None:
            hook.remove()
        tag = f"{name}-opset{opset}" + ("-nhwc" if nhwc else "")
        np.save(os.path.join(out, f"{tag}-input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(out, f"{tag}-logits.npy"), logits.numpy().astype(np.float32))
        if "features" in caught:
            np.save(os.path.join(out, f"{tag}-features.npy"), caught["features"].numpy().astype(np.float32))
        torch.onnx.export(net, x, os.path.join(out, f"{tag}.onnx"), opset_version=opset, input_names=["images"], output_names=["scores"],
                          dynamic_axes={"images": {0: "batch"}, "scores": {0: "batch"}}, do_constant_folding=True)
        print(tag, flush=True)


if __name__ == "__main__":
    main()
