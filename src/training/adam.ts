/**
 * Adam with PyTorch's semantics (torch.optim.Adam, no weight decay, amsgrad off):
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * Pure TypeScript over Float32Arrays so the state is trivially checkpointed and shared by the full fine-tune
 * and the head-only trainer.
 */

export interface AdamOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: AdamOptions = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export interface AdamState {
  /** Updates taken so far (t of the bias correction). */
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export function createAdamState(params: Map<string, Float32Array>): AdamState {
  const zeros = () => new Map([...params].map(([name, p]) => [name, new Float32Array(p.length)] as const));
  return { step: 0, m: zeros(), v: zeros() };
}

/** One update of every parameter that has a gradient; mutates params and state in place. */
export function adamStep(
  params: Map<string, Float32Array>,
  grads: Map<string, Float32Array>,
  state: AdamState,
  opts: AdamOptions = ADAM_DEFAULTS,
): void {
  const { lr, beta1, beta2, eps } = opts;
  state.step += 1;
  const c1 = 1 - beta1 ** state.step;
  const c2 = 1 - beta2 ** state.step;
  for (const [name, g] of grads) {
    const p = params.get(name);
    const m = state.m.get(name);
    const v = state.v.get(name);
    if (p === undefined || m === undefined || v === undefined) throw new Error(`Adam: gradient for unknown parameter '${name}'`);
    if (g.length !== p.length) throw new Error(`Adam: gradient of '${name}' has ${g.length} values, the parameter ${p.length}`);
    for (let i = 0; i < p.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
  }
}
