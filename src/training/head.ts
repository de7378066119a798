/**
 * Head-only retraining: the backbone stays frozen, so only the decomposed (masked) final layer is trained, on
 * cached penultimate features, with Adam and cross-entropy over shuffled mini-batches. Pure TypeScript over
 * typed arrays: each class touches only its |S_y| weights, so an epoch over 50 000 x 64 features takes
 * well under a second and tensors would only add overhead.
 */
import { deriveSeed, mulberry32 } from "../data";
import { accuracy, type FeatureMatrix, type IndexSets, type Labels, type LinearLayer, predictDecomposed, validateFeatures, validateIndexSets, validateLabels, validateLayer } from "../method";
import { type Progress, silentProgress } from "../progress";
import { ADAM_DEFAULTS, adamStep, createAdamState } from "./adam";
import { headMask } from "./params";

export interface LabelledFeatures {
  features: FeatureMatrix;
  labels: Labels;
}

export interface HeadRetrainOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onProgress?: Progress;
}

export interface HeadRetrainResult {
  /** The retrained layer; weight is zero outside S_y, so full and decomposed logits agree. */
  layer: LinearLayer;
  /** A_d on the test features: entry e after e epochs (entry 0 = the initial decomposed layer). */
  testAccuracy: number[];
  /** Mean training cross-entropy per epoch. */
  trainLoss: number[];
}

export function retrainHead(train: LabelledFeatures, test: LabelledFeatures, layer: LinearLayer, sets: IndexSets, options: HeadRetrainOptions = {}): HeadRetrainResult {
  const epochs = options.epochs ?? 10;
  const batchSize = options.batchSize ?? 64;
  const lr = options.lr ?? ADAM_DEFAULTS.lr;
  const seed = options.seed ?? 0;
  const onProgress = options.onProgress ?? silentProgress;
  for (const [part, set] of [["train", train], ["test", test]] as const) {
    validateFeatures(set.features);
    validateLayer(layer, set.features.cols);
    validateLabels(set.labels, set.features.rows, layer.classes);
    if (set.features.rows === 0) throw new Error(`head retraining needs ${part} features; got none`);
  }
  validateIndexSets(sets, layer.classes, layer.features);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);

  const { classes, features: m } = layer;
  const mask = headMask(sets, classes, m);
  const weight = layer.weight.map((w, i) => w * mask[i]);
  const bias = new Float32Array(layer.bias);
  const params = new Map([["weight", weight], ["bias", bias]]);
  const adam = createAdamState(params);
  const gradW = new Float32Array(weight.length);
  const gradB = new Float32Array(classes);
  const grads = new Map([["weight", gradW], ["bias", gradB]]);
  const members = sets.map((s) => Int32Array.from(s).sort());
  const logits = new Float64Array(classes);
  const current = (): LinearLayer => ({ weight, bias, classes, features: m });
  const testAccuracy = [accuracy(predictDecomposed(test.features, current(), sets), test.labels)];
  const trainLoss: number[] = [];
  const { data, rows } = train.features;
  const order = new Uint32Array(rows);

  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < rows; i++) order[i] = i;
    const rng = mulberry32(deriveSeed(seed, epoch));
    for (let i = rows - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    let lossSum = 0;
    for (let start = 0; start < rows; start += batchSize) {
      const end = Math.min(start + batchSize, rows);
      gradW.fill(0);
      gradB.fill(0);
      const scale = 1 / (end - start);
      for (let k = start; k < end; k++) {
        const r = order[k];
        const f = r * m;
        let max = -Infinity;
        for (let y = 0; y < classes; y++) {
          let sum = bias[y];
          for (const j of members[y]) sum += weight[y * m + j] * data[f + j];
          logits[y] = sum;
          if (sum > max) max = sum;
        }
        let z = 0;
        for (let y = 0; y < classes; y++) z += Math.exp(logits[y] - max);
        const label = train.labels[r];
        lossSum += Math.log(z) + max - logits[label];
        // d(mean CE)/d logit_y = (softmax_y - [y = label]) / batch
        for (let y = 0; y < classes; y++) {
          const g = (Math.exp(logits[y] - max) / z - (y === label ? 1 : 0)) * scale;
          gradB[y] += g;
          for (const j of members[y]) gradW[y * m + j] += g * data[f + j];
        }
      }
      adamStep(params, grads, adam, { ...ADAM_DEFAULTS, lr });
    }
    trainLoss.push(lossSum / rows);
    testAccuracy.push(accuracy(predictDecomposed(test.features, current(), sets), test.labels));
    onProgress({ stage: "retrain decomposed head", done: epoch + 1, total: epochs, unit: "epochs" });
  }
  return { layer: current(), testAccuracy, trainLoss };
}
