/**
 * ILSVRC-2012 on disk, in the layouts users have: `train/<wnid>/*.JPEG`; `val/` sorted into the same class
 * folders, or flat with Kaggle's `LOC_val_solution.csv` (ImageId, then a prediction string whose first word is
 * the wnid) beside `val/` or in the root, or flat with the official devkit (`ILSVRC2012_devkit_t12/`, or its
 * .tar.gz, in the root or beside it: the ground truth lists each image's ILSVRC2012_ID, and `meta.mat` maps
 * those IDs, which do not follow the wnids' order, to wnids). Class indices follow torchvision's ImageFolder: the
 * wnids sorted, and within a class the files found by a sorted walk of its folder (subfolders included), with
 * ImageFolder's image extensions in any letter case. Only names are read here: a layout problem fails before any
 * image is decoded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { type MatStruct, readMat } from "./matlab";
import { entryByBasename, readTar } from "./tar";

/** torchvision.datasets.folder.IMG_EXTENSIONS. */
export const IMAGE_EXTENSIONS = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"];
const SOLUTION_CSV = "LOC_val_solution.csv";
const DEVKIT = "ILSVRC2012_devkit_t12";
const GROUND_TRUTH = "ILSVRC2012_validation_ground_truth.txt";
const WNID = /^n\d{8}$/;

export type ImageNetSplit = "train" | "val";

export interface ImageList {
  /** Absolute file paths, in ImageFolder's order. */
  files: string[];
  /** Class index of each file. */
  labels: Uint16Array;
  /** How the labels were found, for reports: "class folders" or the solution file's path. */
  labelSource: string;
}

export interface ImageNetTree {
  root: string;
  /** Sorted wnids: index = class. */
  classes: string[];
  splits: Partial<Record<ImageNetSplit, ImageList>>;
}

const isImage = (name: string) => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function subfolders(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name)).isDirectory())).map((e) => e.name).sort(byCodePoint);
}

/** os.walk(dir, followlinks=True) sorted as ImageFolder does: a folder's files, then its sorted subfolders. */
function walkImages(dir: string, out: string[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const files = entries.filter((e) => !e.isDirectory() && isImage(e.name)).map((e) => e.name).sort(byCodePoint);
  for (const f of files) {
    const full = path.join(dir, f);
    if (fs.statSync(full).isFile()) out.push(full);
  }
  for (const sub of subfolders(dir)) walkImages(path.join(dir, sub), out);
}

export function fromClassFolders(dir: string, classes: string[]): ImageList {
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((wnid, c) => {
    const before = files.length;
    const folder = path.join(dir, wnid);
    if (fs.existsSync(folder)) walkImages(folder, files);
    for (let i = before; i < files.length; i++) labels.push(c);
  });
  return { files, labels: Uint16Array.from(labels), labelSource: "class folders" };
}

/** The flat validation folder labelled by LOC_val_solution.csv. */
function fromSolution(dir: string, csv: string, classes: string[] | null): { list: ImageList; classes: string[] } {
  const lines = fs.readFileSync(csv, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "");
  if (!/^ImageId\s*,\s*PredictionString/i.test(lines[0] ?? "")) throw new Error(`${csv}: expected the header 'ImageId,PredictionString' (Kaggle's LOC_val_solution.csv)`);
  const wnidOf = new Map<string, string>();
  lines.slice(1).forEach((line, i) => {
    const [id, prediction] = line.split(",");
    const wnid = (prediction ?? "").trim().split(/\s+/)[0];
    if (!id || !WNID.test(wnid)) throw new Error(`${csv} line ${i + 2}: expected 'ImageId,<wnid> ...', got '${line.slice(0, 80)}'`);
    wnidOf.set(id.trim(), wnid);
  });
  const known = classes ?? [...new Set(wnidOf.values())].sort(byCodePoint);
  const list = labelFlatFolder(dir, known, csv, (id, file) => {
    const wnid = wnidOf.get(id);
    if (wnid === undefined) throw new Error(`${file} has no row in ${csv}; is it the solution file of this validation set?`);
    return { wnid, said: `${csv} labels ${id} as ${wnid}` };
  });
  return { list, classes: known };
}

/**
 * A flat folder's images in sorted order, each labelled by `wnidOf(its name without the extension, its path)`,
 * which also says where the label came from for the error when the wnid is not among `known`.
 */
export function labelFlatFolder(dir: string, known: string[], labelSource: string, wnidOf: (id: string, file: string) => { wnid: string; said: string }): ImageList {
  const index = new Map(known.map((w, c) => [w, c]));
  const files: string[] = [];
  const labels: number[] = [];
  for (const name of fs.readdirSync(dir).filter(isImage).sort(byCodePoint)) {
    const file = path.join(dir, name);
    const { wnid, said } = wnidOf(name.slice(0, name.length - path.extname(name).length), file);
    const c = index.get(wnid);
    if (c === undefined) throw new Error(`${said}, which is not one of the ${known.length} training classes`);
    files.push(file);
    labels.push(c);
  }
  return { files, labels: Uint16Array.from(labels), labelSource };
}

interface Devkit {
  meta: Uint8Array;
  truth: string;
  /** The folder or archive it came from, for reports and errors. */
  source: string;
}

/** The devkit's meta.mat and ground truth, from its extracted folder or its .tar.gz, in `dirs` (in order). */
function findDevkit(dirs: string[]): Devkit | null {
  for (const dir of dirs) {
    const data = path.join(dir, DEVKIT, "data");
    const [meta, truth] = [path.join(data, "meta.mat"), path.join(data, GROUND_TRUTH)];
    if (fs.existsSync(meta) && fs.existsSync(truth)) return { meta: fs.readFileSync(meta), truth: fs.readFileSync(truth, "utf8"), source: data };
    const archive = path.join(dir, `${DEVKIT}.tar.gz`);
    if (fs.existsSync(archive)) {
      const entries = readTar(new Uint8Array(gunzipSync(fs.readFileSync(archive))));
      const text = new TextDecoder().decode(entryByBasename(entries, GROUND_TRUTH, archive).data);
      return { meta: entryByBasename(entries, "meta.mat", archive).data, truth: text, source: archive };
    }
  }
  return null;
}

const scalar = (v: unknown, what: string, where: string): number => {
  if (!Array.isArray(v) || v.length !== 1 || typeof v[0] !== "number") throw new Error(`${where}: synsets.${what} is not a number`);
  return v[0];
};

/** The flat validation folder labelled by the devkit: ILSVRC2012_val_<n> is line n of the ground truth. */
function fromDevkit(dir: string, devkit: Devkit, classes: string[] | null): { list: ImageList; classes: string[] } {
  const where = `${devkit.source} (meta.mat)`;
  const synsets = readMat(devkit.meta, where).get("synsets");
  if (!Array.isArray(synsets) || synsets.length === 0 || typeof synsets[0] !== "object" || Array.isArray(synsets[0])) throw new Error(`${where} has no 'synsets' struct array`);
  // The 1,000 classes are the leaves of the devkit's synset tree, as torchvision's parse_meta_mat takes them.
  const leaves = (synsets as MatStruct[]).filter((s) => scalar(s.num_children, "num_children", where) === 0);
  const wnidOf = new Map(leaves.map((s) => [scalar(s.ILSVRC2012_ID, "ILSVRC2012_ID", where), String(s.WNID)]));
  const truth = devkit.truth.split(/\s+/).filter((t) => t !== "").map(Number);
  const known = classes ?? [...wnidOf.values()].sort(byCodePoint);
  const list = labelFlatFolder(dir, known, devkit.source, (name, file) => {
    const m = /_(\d+)$/.exec(name);
    const id = m === null ? undefined : truth[Number(m[1]) - 1];
    if (id === undefined) throw new Error(`${file}: no line of ${GROUND_TRUTH} (${truth.length} lines) belongs to it; names are ILSVRC2012_val_<n>.JPEG`);
    const wnid = wnidOf.get(id);
    const said = `${GROUND_TRUTH} labels ${path.basename(file)} with ILSVRC2012_ID ${id}`;
    if (wnid === undefined) throw new Error(`${said}, which is not a leaf synset of meta.mat (not one of the 1,000 classes)`);
    return { wnid, said: `${said} (${wnid})` };
  });
  return { list, classes: known };
}

function checkWnidFolders(dir: string, folders: string[]): void {
  const odd = folders.find((f) => !WNID.test(f));
  if (odd !== undefined) throw new Error(`${path.join(dir, odd)}: ImageNet class folders are wnids such as n01440764; move or remove '${odd}'`);
}

/** Reads the tree's layout (names only). Fails naming what is missing or inconsistent, and how to fix it. */
export function scanImageNet(root: string): ImageNetTree {
  const abs = path.resolve(root);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new Error(`ImageNet folder ${abs} does not exist; pass the folder that holds train/ and val/`);
  const trainDir = path.join(abs, "train");
  const valDir = path.join(abs, "val");
  const hasTrain = fs.existsSync(trainDir);
  const hasVal = fs.existsSync(valDir);
  if (!hasTrain && !hasVal) throw new Error(`${abs} has neither train/ nor val/; pass the folder that holds them (ILSVRC/Data/CLS-LOC in Kaggle's copy)`);

  let classes: string[] | null = null;
  const splits: Partial<Record<ImageNetSplit, ImageList>> = {};
  if (hasTrain) {
    const folders = subfolders(trainDir);
    checkWnidFolders(trainDir, folders);
    if (folders.length === 0) throw new Error(`${trainDir} has no class folders (train/<wnid>/*.JPEG)`);
    classes = folders;
    splits.train = fromClassFolders(trainDir, classes);
  }
  if (hasVal) {
    const folders = subfolders(valDir);
    if (folders.length > 0) {
      checkWnidFolders(valDir, folders);
      if (classes !== null) {
        const extra = folders.find((f) => !classes!.includes(f));
        if (extra !== undefined) throw new Error(`${path.join(valDir, extra)} is a class that train/ does not have`);
      }
      classes ??= folders;
      splits.val = fromClassFolders(valDir, classes);
    } else {
      const csv = [path.join(abs, SOLUTION_CSV), path.join(path.dirname(abs), SOLUTION_CSV), path.join(abs, "..", "..", "..", SOLUTION_CSV)].find((f) => fs.existsSync(f));
      const devkit = csv === undefined ? findDevkit([abs, path.dirname(abs)]) : null;
      if (csv === undefined && devkit === null) {
        throw new Error(
          `${valDir} is flat (no class folders) and neither ${SOLUTION_CSV} nor the devkit (${DEVKIT}/ or ${DEVKIT}.tar.gz) was found in ${abs} or its parents: ` +
            `put Kaggle's ${SOLUTION_CSV} or the devkit there, or sort val/ into class folders (one folder per wnid, as train/)`,
        );
      }
      const labelled = csv !== undefined ? fromSolution(valDir, csv, classes) : fromDevkit(valDir, devkit!, classes);
      classes ??= labelled.classes;
      splits.val = labelled.list;
    }
  }
  for (const [split, list] of Object.entries(splits)) {
    if (list.files.length === 0) throw new Error(`${path.join(abs, split)} holds no images (${IMAGE_EXTENSIONS.join(", ")})`);
  }
  return { root: abs, classes: classes!, splits };
}
