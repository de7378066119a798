/**
 * A model by what `--model` says: a registry name (its checkpoint, description and preset) or a file to import
 * (an ONNX classifier, or a TF.js LayersModel's model.json). All come back with what the pipeline needs: the shape, the final layer, the identity of
 * the weights for cache keys, the preprocessing to feed it, and an engine to run it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Recipe } from "../data/preprocess";
import type { Progress } from "../progress";
import type { ForwardEngine, ModelShape } from "./engine";
import { createEngine, type EngineChoice } from "./engines";
import { importOnnx, type ImportedOnnxModel, isOnnxFile, openImportedEngine } from "./import/onnx-model";
import { indexGraph, inputLayout } from "./import/onnx-graph";
import { type ImportedTfjsModel, importTfjs, isTfjsFile, openTfjsImportedEngine } from "./import/tfjs-model";
import { decodeOnnxModel } from "./onnx-proto";
import { loadPretrained, type Pretrained } from "./pretrained";
import { inputRecipe, modelEntry, PREPROCESSINGS } from "./registry";

export type ImportedModel = ImportedOnnxModel | ImportedTfjsModel;
export type LoadedModel = Pretrained | ImportedModel;

/** Whether `--model` names a file to import (ONNX, or a TF.js model.json) rather than a registry model. */
export function isModelFile(model: string): boolean {
  return isOnnxFile(model) || isTfjsFile(model);
}

export interface LoadOptions {
  weights?: string;
  /** Square input side the preprocessing gives. */
  inputSize?: number;
  onProgress?: Progress;
  cacheDir?: string;
}

/** Checks the name (a known model, or an existing ONNX file) without reading any weights. */
export function checkModelName(model: string): void {
  if (isModelFile(model)) {
    if (!fs.existsSync(model)) throw new Error(`model file ${path.resolve(model)} does not exist`);
    return;
  }
  modelEntry(model);
}

export async function loadAnyModel(model: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  if (!isModelFile(model)) return loadPretrained(model, opts);
  if (opts.weights !== undefined) throw new Error(`--weights is for registry models; ${model} carries its own weights`);
  return isTfjsFile(model) ? importTfjs(model, { inputSize: opts.inputSize }) : importOnnx(model, { inputSize: opts.inputSize });
}

/**
 * The registry model, for the parts of the toolkit that build on its description (fine-tuning through the
 * backbone, TF.js channel maps); an imported graph is refused saying what works for it instead.
 */
export function registryModel(model: LoadedModel, what: string): Pretrained {
  if (model.kind === "registry") return model;
  throw new Error(`${what} needs a model whose architecture decomp describes (decomp models lists them); ${model.file} was imported from ${model.format === "onnx" ? "ONNX" : "TF.js"}, so it runs as a graph: its features, the decomposed layer, the noise ablation and head-only retraining on cached features work, full fine-tuning does not`);
}

/** An engine running the model: the registry's description on DECOMP_ENGINE's choice, or the imported graph. */
export function openEngine(model: LoadedModel, choice?: EngineChoice): Promise<ForwardEngine> {
  if (model.kind === "registry") return createEngine(model.spec, model.stateDict, choice);
  return model.format === "onnx" ? openImportedEngine(model) : openTfjsImportedEngine(model);
}

/** What the model's weights are called in cache keys and file names: the registry name, or the file's base name. */
export function modelKey(model: string): string {
  if (isTfjsFile(model)) return `${path.basename(path.dirname(path.resolve(model))).replace(/[^\w.-]/g, "_")}-tfjs`;
  return isOnnxFile(model) ? `${path.basename(model, path.extname(model)).replace(/[^\w.-]/g, "_")}-onnx` : model;
}

/** The model's display name. */
export function modelName(model: LoadedModel): string {
  return model.kind === "imported" ? model.spec.name : model.entry.name;
}

export function modelShape(model: LoadedModel): ModelShape {
  return model.spec;
}

/**
 * The fixed square side an imported file's input declares, or null when height or width is left open; read without
 * preparing the model (the recipe is chosen from it before the weights are used).
 */
export function fileInputSide(file: string): number | null {
  const where = path.resolve(file);
  if (isTfjsFile(file)) return tfjsInputSide(where);
  const input = inputLayout(indexGraph(decodeOnnxModel(fs.readFileSync(where), where).graph!), where);
  return input.height !== null && input.height === input.width ? input.height : null;
}

/** The first batch input shape a Keras topology declares ([null, H, W, 3]), as its side. */
function tfjsInputSide(file: string): number | null {
  let found: unknown = null;
  const visit = (node: unknown): void => {
    if (found !== null || node === null || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if ((k === "batch_input_shape" || k === "batchInputShape") && Array.isArray(v)) found = v;
      else visit(v);
    }
  };
  try {
    visit(JSON.parse(fs.readFileSync(file, "utf8")).modelTopology);
  } catch (err) {
    throw new Error(`${file} is not a TF.js model.json (${(err as Error).message}); save one with model.save or tensorflowjs_converter`);
  }
  const shape = found as (number | null)[] | null;
  return shape !== null && shape.length === 4 && shape[1] !== null && shape[1] === shape[2] ? shape[1] : null;
}

/** torchvision's ImageNet evaluation preset: resize the shorter side to 256, centre-crop 224, bilinear. */
const IMAGENET_PRESET: Recipe = { kind: "resize-crop", resize: 256, crop: 224, interpolation: "bilinear" };

/**
 * The resize and crop a model's images get. A registry model: its preset (or the paper's squash). An imported
 * model carries none: `torchvision` (default) keeps images of the graph's own fixed side as they are (a CIFAR
 * network on CIFAR images), and otherwise scales torchvision's preset to that side (resize S * 256 / 224, crop S),
 * or uses the preset itself where the graph leaves the side open; `paper` squashes to the side (224 if open).
 * A recipe given as such (--resize/--crop/--squash, a sidecar file) is used as it is.
 */
export function modelRecipe(model: string, preprocessing: string | Recipe, imageSide: number | null): Recipe {
  if (typeof preprocessing === "object") return preprocessing;
  if (!isModelFile(model)) return inputRecipe(modelEntry(model), preprocessing);
  if (!(PREPROCESSINGS as readonly string[]).includes(preprocessing)) throw new Error(`unknown preprocessing '${preprocessing}'; known: ${PREPROCESSINGS.join(", ")}`);
  const side = fileInputSide(model);
  if (preprocessing === "paper") return { kind: "squash", size: side ?? 224, interpolation: "bilinear" };
  if (side === null) return IMAGENET_PRESET;
  if (side === imageSide) return { kind: "native" };
  return { kind: "resize-crop", resize: Math.round((side * 256) / 224), crop: side, interpolation: "bilinear" };
}
