/** `--indices FILE`: an index map read and validated against a model's classes and feature width, naming the file in every error. */
import * as fs from "node:fs";
import { type IndexSets, parseIndexMap } from "../../method";

/** Keys are class numbers, or class names (`names`: CIFAR-10's, or ImageNet's wnids) when the file uses names. */
export function readIndexMapFile(file: string, shape: { classes: number; features: number }, names: readonly string[]): IndexSets {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new Error(`--indices ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass the JSON file 'decomp select --out' wrote`);
  }
  const keyedByName = /"[a-z]/.test(text);
  try {
    return parseIndexMap(text, { ...shape, classNames: keyedByName ? names : undefined });
  } catch (err) {
    throw new Error(`--indices ${file}: ${(err as Error).message}`);
  }
}
