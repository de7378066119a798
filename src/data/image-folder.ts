/**
 * A dataset of one's own in torchvision's ImageFolder layout: `train/<class>/*` and `val/<class>/*` (other folder
 * names with --train-dir / --test-dir), classes in ImageFolder's order (folder names sorted) or as a
 * `classes.json` in the root maps folder names to the model's output indices. Only names are read by the scan;
 * probeImages then reads every file's header, so an empty class or an unreadable image is refused, named, before
 * any extraction starts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import sharp from "sharp";
import type { Progress } from "../progress";
import { fromClassFolders, IMAGE_EXTENSIONS, type ImageNetTree, subfolders } from "./imagenet";

export interface ImageFolderOptions {
  /** Folder of the training split, relative to the root or absolute (default train). */
  trainDir?: string;
  /** Folder of the evaluation split (default val). */
  testDir?: string;
}

/** The classes in output order: classes.json ({"folder": index, ...}, every folder once, indices 0..C-1) or the sorted folders. */
function classOrder(root: string, folders: string[]): string[] {
  const file = path.join(root, "classes.json");
  if (!fs.existsSync(file)) return folders;
  let map: Record<string, unknown>;
  try {
    map = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); it maps each class folder to the model's output index, e.g. {"cat": 0, "dog": 1}`);
  }
  const names = Object.keys(map).sort((a, b) => Number(map[a]) - Number(map[b]));
  names.forEach((name, i) => {
    if (map[name] !== i) throw new Error(`${file}: the indices must be 0..${names.length - 1}, each once; '${name}' has ${JSON.stringify(map[name])}`);
  });
  const missing = folders.find((f) => !(f in map));
  if (missing !== undefined) throw new Error(`${file} has no index for the class folder '${missing}'; add "${missing}": <index>`);
  const extra = names.find((n) => !folders.includes(n));
  if (extra !== undefined) throw new Error(`${file} names '${extra}', which is not a class folder of the training split`);
  return names;
}

/** Reads the tree's layout (names only); the same splits and class order a torchvision ImageFolder would give. */
export function scanImageFolder(root: string, options: ImageFolderOptions = {}): ImageNetTree {
  const abs = path.resolve(root);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new Error(`image folder ${abs} does not exist; pass the folder that holds train/ and val/`);
  const trainDir = path.resolve(abs, options.trainDir ?? "train");
  const valDir = path.resolve(abs, options.testDir ?? "val");
  for (const [dir, flag] of [[trainDir, "--train-dir"], [valDir, "--test-dir"]]) {
    if (!fs.existsSync(dir)) throw new Error(`${dir} does not exist: an image folder holds train/<class>/ and val/<class>/ (or name them with ${flag})`);
  }
  const folders = subfolders(trainDir);
  if (folders.length === 0) throw new Error(`${trainDir} has no class folders (train/<class>/<image>)`);
  const classes = classOrder(abs, folders);
  const extra = subfolders(valDir).find((f) => !classes.includes(f));
  if (extra !== undefined) throw new Error(`${path.join(valDir, extra)} is a class that ${trainDir} does not have`);
  const splits = { train: fromClassFolders(trainDir, classes), val: fromClassFolders(valDir, classes) };
  for (const [split, dir] of [["train", trainDir], ["val", valDir]] as const) {
    const counts = new Uint32Array(classes.length);
    for (const y of splits[split].labels) counts[y]++;
    const empty = classes.findIndex((_, c) => counts[c] === 0);
    if (empty >= 0) throw new Error(`${path.join(dir, classes[empty])} holds no images (${IMAGE_EXTENSIONS.join(", ")}); every class needs some in both splits`);
  }
  return { root: abs, classes, splits };
}

/** Reads every file's header (format, size), refusing the first that is not an image sharp can decode, by name. */
export async function probeImages(files: readonly string[], onProgress?: Progress, stage = "check images"): Promise<void> {
  const step = Math.max(1, Math.floor(files.length / 100));
  for (let i = 0; i < files.length; i++) {
    try {
      const meta = await sharp(files[i]).metadata();
      if (!meta.width || !meta.height) throw new Error("no image size in its header");
    } catch (err) {
      throw new Error(`${files[i]}: cannot read the image (${(err as Error).message.split("\n")[0]}); remove or replace it`);
    }
    if ((i + 1) % step === 0 || i + 1 === files.length) onProgress?.({ stage, done: i + 1, total: files.length, unit: "images" });
  }
}
