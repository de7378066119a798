/** Input checks shared by the method modules; each failure says what was wrong and how to fix it. */
import { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";

function isCount(n: number): boolean {
  return Number.isInteger(n) && n >= 0;
}

/** Shape and finiteness; reports the first non-finite entry so the caller can find the bad activation. */
export function validateFeatures(features: FeatureMatrix, name = "features"): void {
  const { data, rows, cols } = features;
  if (!(data instanceof Float32Array)) throw new Error(`${name}.data must be a Float32Array`);
  if (!isCount(rows) || !isCount(cols) || cols === 0) {
    throw new Error(`${name} must have integer rows >= 0 and cols >= 1, got rows=${rows}, cols=${cols}`);
  }
  if (data.length !== rows * cols) {
    throw new Error(`${name}.data has ${data.length} values but rows x cols = ${rows} x ${cols} = ${rows * cols}`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const row = Math.floor(i / cols);
      throw new Error(
        `${name} has a non-finite value (${data[i]}) at row ${row}, col ${i - row * cols}; ` +
          `recompute or drop that row`,
      );
    }
  }
}

/** The coverage rule measures l1 mass in rank order, which is only meaningful for non-negative activations. */
export function validateNonNegative(features: FeatureMatrix, why: string): void {
  const { data, cols } = features;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0) {
      const row = Math.floor(i / cols);
      throw new Error(
        `${why} needs non-negative features, but row ${row}, col ${i - row * cols} is ${data[i]}; ` +
          `pass post-ReLU activations`,
      );
    }
  }
}

/** Labels match the row count and lie in 0..classes-1. */
export function validateLabels(labels: Labels, rows: number, classes: number): void {
  if (!(labels instanceof Uint8Array || labels instanceof Int32Array)) {
    throw new Error("labels must be a Uint8Array or Int32Array");
  }
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`classes must be an integer >= 1, got ${classes}`);
  }
  if (labels.length !== rows) {
    throw new Error(`labels has ${labels.length} entries but features has ${rows} rows; they must match`);
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y < 0 || y >= classes) {
      throw new Error(`label ${y} at row ${i} is outside 0..${classes - 1} (classes = ${classes})`);
    }
  }
}

/** Every class must have instances, otherwise its influential set is undefined. */
export function validateClassesPresent(labels: Labels, classes: number, classNames?: readonly string[]): void {
  const seen = new Uint8Array(classes);
  for (let i = 0; i < labels.length; i++) seen[labels[i]] = 1;
  for (let c = 0; c < classes; c++) {
    if (!seen[c]) {
      const named = classNames?.[c] !== undefined ? ` ("${classNames[c]}")` : "";
      throw new Error(
        `class ${c}${named} has no instances in the labels; every class 0..${classes - 1} needs at least one`,
      );
    }
  }
}

/** k1 and k2 select features, so they must lie in 1..m. */
export function validateK(name: string, k: number, featureWidth: number): void {
  if (!Number.isInteger(k) || k < 1 || k > featureWidth) {
    throw new Error(`${name} must be an integer in 1..${featureWidth} (the feature width is ${featureWidth}), got ${k}`);
  }
}

/** Coverage percentage p lies in (0, 100]. */
export function validateCoverage(p: number): void {
  if (!(Number.isFinite(p) && p > 0 && p <= 100)) {
    throw new Error(`coverage p must be a percentage in (0, 100], got ${p}`);
  }
}

/** Layer arrays match its declared shape and the feature width. */
export function validateLayer(layer: LinearLayer, featureWidth: number): void {
  const { weight, bias, classes, features } = layer;
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`layer.classes must be an integer >= 1, got ${classes}`);
  if (features !== featureWidth) {
    throw new Error(`layer expects ${features} features but the feature matrix has ${featureWidth} columns`);
  }
  if (weight.length !== classes * features) {
    throw new Error(
      `layer.weight has ${weight.length} values but classes x features = ${classes} x ${features} = ${classes * features}`,
    );
  }
  if (bias.length !== classes) throw new Error(`layer.bias has ${bias.length} values but the layer has ${classes} classes`);
  for (let i = 0; i < weight.length; i++) {
    if (!Number.isFinite(weight[i])) throw new Error(`layer.weight is non-finite at class ${Math.floor(i / features)}, feature ${i % features}`);
  }
  for (let c = 0; c < classes; c++) {
    if (!Number.isFinite(bias[c])) throw new Error(`layer.bias is non-finite at class ${c}`);
  }
}

/** One index set per class, each a duplicate-free list of integer feature indices in 0..m-1. */
export function validateIndexSets(
  sets: IndexSets,
  classes: number,
  featureWidth: number,
  classNames?: readonly string[],
): void {
  const label = (c: number) => (classNames?.[c] !== undefined ? `class ${c} ("${classNames[c]}")` : `class ${c}`);
  if (sets.length !== classes) {
    throw new Error(`index sets cover ${sets.length} classes but the layer has ${classes}; give one list per class`);
  }
  const seen = new Int32Array(featureWidth).fill(-1);
  for (let c = 0; c < classes; c++) {
    const set = sets[c];
    if (!Array.isArray(set)) throw new Error(`${label(c)}: indices must be an array of integers`);
    for (const j of set) {
      if (typeof j !== "number" || !Number.isInteger(j) || j < 0 || j >= featureWidth) {
        throw new Error(`${label(c)}: index ${JSON.stringify(j)} is not an integer in 0..${featureWidth - 1} (feature width ${featureWidth})`);
      }
      if (seen[j] === c) throw new Error(`${label(c)}: index ${j} appears more than once`);
      seen[j] = c;
    }
  }
}
