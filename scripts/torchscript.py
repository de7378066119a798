"""What the PyTorch benchmark scripts share: the inference modes and the timing of training steps (a benchmark
reference, never product code)."""
import time

import torch


def prepare(model, mode, example):
    """eager: the module as is. frozen: TorchScript trace, frozen and optimised for inference (BN folded)."""
    if mode == "eager":
        return model
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
    return torch.jit.optimize_for_inference(torch.jit.freeze(traced))


def five_per_class(classes, features, gen):
    """A 0/1 head mask keeping five features per class, as Algorithm 1 at k2 = 5: which five does not change
    the speed of a step."""
    mask = torch.zeros(classes, features)
    for y in range(classes):
        mask[y, torch.randperm(features, generator=gen)[:5]] = 1
    return mask


def median_step_seconds(step, warmup, steps):
    """Median wall time of `steps` calls of step() after `warmup` untimed ones."""
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]
