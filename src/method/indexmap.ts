/**
 * Index maps: the influential sets as JSON, {"<class>": [indices...]}, keyed by decimal class index or,
 * when a name list is given, by class name. Lets users save results and evaluate sets found elsewhere.
 */
import { DecomposedEvaluation, evaluateDecomposed } from "./decomposed";
import { FeatureMatrix, IndexSets, Labels, LinearLayer } from "./types";
import { validateIndexSets } from "./validate";

export type IndexMapObject = Record<string, number[]>;

export interface IndexMapShape {
  classes: number;
  features: number;
  /** Class names used as keys instead of "0", "1", ...; one per class, all distinct. */
  classNames?: readonly string[];
}

function classKeys(classes: number, classNames?: readonly string[]): string[] {
  if (classNames === undefined) return Array.from({ length: classes }, (_, c) => String(c));
  if (classNames.length !== classes) {
    throw new Error(`got ${classNames.length} class names for ${classes} classes; give one name per class`);
  }
  if (new Set(classNames).size !== classNames.length) throw new Error("class names must be distinct to serve as keys");
  return [...classNames];
}

export function indexMapToObject(sets: IndexSets, shape: IndexMapShape): IndexMapObject {
  validateIndexSets(sets, shape.classes, shape.features, shape.classNames);
  const keys = classKeys(shape.classes, shape.classNames);
  const map: IndexMapObject = {};
  keys.forEach((key, c) => (map[key] = [...sets[c]]));
  return map;
}

/** JSON text with one class per line, so saved maps diff cleanly. */
export function indexMapToJson(sets: IndexSets, shape: IndexMapShape): string {
  const map = indexMapToObject(sets, shape);
  const lines = Object.entries(map).map(([key, indices]) => `  ${JSON.stringify(key)}: ${JSON.stringify(indices)}`);
  return `{\n${lines.join(",\n")}\n}\n`;
}

/** Parse and validate an index map (JSON text or an already parsed object); returns sets in class order. */
export function parseIndexMap(input: string | unknown, shape: IndexMapShape): number[][] {
  let map: unknown = input;
  if (typeof input === "string") {
    try {
      map = JSON.parse(input);
    } catch (e) {
      throw new Error(`index map is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new Error('index map must be a JSON object mapping each class to its indices, e.g. {"0": [3, 17]}');
  }
  const keys = classKeys(shape.classes, shape.classNames);
  const entries = map as Record<string, unknown>;
  for (const key of Object.keys(entries)) {
    if (!keys.includes(key)) {
      throw new Error(`index map key "${key}" is not a class; expected keys: ${keys.map((k) => `"${k}"`).join(", ")}`);
    }
  }
  const sets = keys.map((key, c) => {
    if (!(key in entries)) {
      const named = shape.classNames ? ` ("${key}")` : "";
      throw new Error(`index map has no entry for class ${c}${named}; add "${key}": [indices...]`);
    }
    return entries[key] as number[];
  });
  validateIndexSets(sets, shape.classes, shape.features, shape.classNames);
  return sets.map((s) => [...s]);
}

/** Evaluate an externally supplied index map against the full layer. */
export function evaluateIndexMap(
  input: string | unknown,
  features: FeatureMatrix,
  labels: Labels,
  layer: LinearLayer,
  classNames?: readonly string[],
): DecomposedEvaluation {
  const sets = parseIndexMap(input, { classes: layer.classes, features: layer.features, classNames });
  return evaluateDecomposed(features, labels, layer, sets);
}
