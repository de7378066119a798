"""The PyTorch benchmark scripts' modes (a benchmark reference, never product code)."""
import torch


def prepare(model, mode, example):
    """eager: the module as is. frozen: TorchScript trace, frozen and optimised for inference (BN folded)."""
    if mode == "eager":
        return model
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    return torch.jit.optimize_for_inference(torch.jit.freeze(traced))
