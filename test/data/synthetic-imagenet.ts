/**
 * A synthetic ILSVRC-layout tree for tests: small JPEGs (the bench's synthetic photographs, so decoding and
 * resizing are exercised) in wnid class folders, one nested folder, mixed-case extensions and a stray text file in train/,
 * and a flat val/ labelled by a LOC_val_solution.csv in the root.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeSyntheticJpeg } from "../../src/bench/pipeline-bench";

export const WNIDS = ["n01440764", "n01443537", "n02102040", "n03000134", "n03417042"];

/**
 * `classes` wnid folders with `perClass(c)` training images each (sizes vary), one nested image in class 1, and
 * `valImages` flat validation images whose CSV rows label image i with class (3 i) mod classes.
 */
export async function makeTree(root: string, opts: { classes?: number; perClass?: (c: number) => number; valImages?: number } = {}): Promise<void> {
  const wnids = WNIDS.slice(0, opts.classes ?? 4);
  const perClass = opts.perClass ?? ((c: number) => 3 + c);
  let seed = 1;
  for (const [c, wnid] of wnids.entries()) {
    for (let i = 0; i < perClass(c); i++) await writeSyntheticJpeg(path.join(root, "train", wnid, `${wnid}_${1000 - i * 7}.${i % 2 ? "JPEG" : "jpeg"}`), seed++, 40 + (i % 5) * 3, 30 + c * 5);
  }
  await writeSyntheticJpeg(path.join(root, "train", wnids[1], "extra", "b_nested.JPEG"), seed++, 33, 41);
  fs.writeFileSync(path.join(root, "train", wnids[0], "README.txt"), "not an image");
  const rows = ["ImageId,PredictionString"];
  for (let i = 1; i <= (opts.valImages ?? 9); i++) {
    const id = `ILSVRC2012_val_${String(i).padStart(8, "0")}`;
    await writeSyntheticJpeg(path.join(root, "val", `${id}.JPEG`), seed++, 50, 37);
    rows.push(`${id},${wnids[(i * 3) % wnids.length]} 10 20 30 40 ${wnids[0]} 1 2 3 4`);
  }
  fs.writeFileSync(path.join(root, "LOC_val_solution.csv"), rows.join("\n") + "\n");
}
