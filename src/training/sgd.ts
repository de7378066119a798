/**
 * SGD with PyTorch's semantics (torch.optim.SGD, dampening 0): g' = g + wd p; b = mu b + g';
 * p -= lr (g' + mu b) with Nesterov, lr b without. The CIFAR recipe for training from scratch (SGD 0.1,
 * momentum 0.9, weight decay 1e-4) and the original CSG code's SGD option (Nesterov) both run on it. The
 * momentum buffers live in an AdamState's first moments (`m`; `v` stays empty), so checkpoints store either
 * optimiser the same way.
 */
import type { AdamState } from "./adam";

export interface SgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export const SGD_DEFAULTS: SgdOptions = { lr: 0.1, momentum: 0.9, weightDecay: 1e-4, nesterov: true };

/** One update of every parameter that has a gradient; mutates params and state in place. */
export function sgdStep(params: Map<string, Float32Array>, grads: Map<string, Float32Array>, state: AdamState, opts: SgdOptions = SGD_DEFAULTS): void {
  const { lr, momentum, weightDecay, nesterov } = opts;
  state.step += 1;
  for (const [name, g] of grads) {
    const p = params.get(name);
    if (p === undefined) throw new Error(`SGD: gradient for unknown parameter '${name}'`);
    if (g.length !== p.length) throw new Error(`SGD: gradient of '${name}' has ${g.length} values, the parameter ${p.length}`);
    let b = state.m.get(name);
    if (b === undefined) {
      b = new Float32Array(p.length);
      state.m.set(name, b);
    }
    for (let i = 0; i < p.length; i++) {
      const d = g[i] + weightDecay * p[i];
      b[i] = momentum * b[i] + d;
      p[i] -= lr * (nesterov ? d + momentum * b[i] : b[i]);
    }
  }
}
