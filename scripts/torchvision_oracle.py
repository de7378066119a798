"""Helpers shared by the scripts that build torchvision models as test oracles (never product code)."""
import re

import torch


def randomise(model, generator, gain=2.0):
    """Seeded weights at Kaiming scale (gain 2, or the given one) with BatchNorm affine parameters and running
    statistics away from 1 and 0, so that every parameter moves the output."""
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
            elif name.endswith("running_mean") or name.endswith(".bias"):
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
            elif "bn" in name or "norm" in name or "downsample.1" in name or (tensor.dim() == 1 and name.endswith("weight")):
                tensor.copy_(0.8 + 0.4 * torch.rand(tensor.shape, generator=generator))
            else:
                fan_in = tensor[0].numel()
                tensor.copy_(torch.randn(tensor.shape, generator=generator) * (gain / fan_in) ** 0.5)


def legacy_densenet_key(key):
    """The published DenseNet files name dense-layer parameters norm.1, conv.2, ...; torchvision renames them on load."""
    return re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", key)
