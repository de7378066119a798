/**
 * Tiny ImageNet 200 on disk, in its published layout: `wnids.txt` (the 200 wnids), `train/<wnid>/images/*.JPEG`,
 * and `val/images/*.JPEG` labelled by `val/val_annotations.txt` (file, wnid, box); 64 x 64 images, 500 training
 * and 50 validation images per class. Class indices are the wnids sorted, what torchvision's ImageFolder over
 * `train/` gives, and the training files come in ImageFolder's order. Only names are read: every layout problem
 * (a missing annotation file, a wnid the list does not have) fails before any image is decoded. The published
 * archive (tiny-imagenet-200.zip) is checked against its md5 and unpacked once into the cache.
 */
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveCacheDir } from "../artifacts/paths";
import { ZipArchive } from "../artifacts/zip-archive";
import { type Progress, silentProgress } from "../progress";
import { fromClassFolders, type ImageList, type ImageNetTree, labelFlatFolder, subfolders } from "./imagenet";

export const TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip";
/** The published archive's md5, as the Tiny ImageNet loaders in public repositories pin it; no sha256 is published. */
export const TINY_IMAGENET_MD5 = "90528d7ca1a48142e341f4ef8d21d0de";
const ARCHIVE_FOLDER = "tiny-imagenet-200";

export interface TinyImageNetZipOptions {
  cacheDir?: string;
  /** The archive's md5 (default: the published one). */
  md5?: string;
  onProgress?: Progress;
}

/**
 * The archive unpacked under the cache (`tiny-imagenet/<md5 prefix>/tiny-imagenet-200`), after its md5 is checked;
 * an earlier unpacking is reused. The unlabelled test/ images are left out. The folder appears whole or not at
 * all: the files go to a temporary sibling that is renamed into place last.
 */
export function unpackTinyImageNet(zipFile: string, options: TinyImageNetZipOptions = {}): string {
  const abs = path.resolve(zipFile);
  if (!fs.existsSync(abs)) throw new Error(`Tiny ImageNet archive ${abs} does not exist; download it from ${TINY_IMAGENET_URL}`);
  const want = options.md5 ?? TINY_IMAGENET_MD5;
  const home = path.join(resolveCacheDir(options.cacheDir), "tiny-imagenet", want.slice(0, 12));
  const done = path.join(home, ARCHIVE_FOLDER);
  if (fs.existsSync(path.join(done, "wnids.txt"))) return done;
  const bytes = fs.readFileSync(abs);
  const got = createHash("md5").update(bytes).digest("hex");
  if (got !== want) throw new Error(`${abs} has md5 ${got}, expected ${want} (${bytes.length} bytes): not the published tiny-imagenet-200.zip, or a damaged download; download it again from ${TINY_IMAGENET_URL}`);
  const archive = new ZipArchive(bytes, (what) => new Error(`${abs}: ${what}`));
  const names = [...archive.entries.keys()].filter((n) => n.startsWith(`${ARCHIVE_FOLDER}/`) && !n.endsWith("/") && !n.startsWith(`${ARCHIVE_FOLDER}/test/`));
  if (!names.includes(`${ARCHIVE_FOLDER}/wnids.txt`)) throw new Error(`${abs} holds no ${ARCHIVE_FOLDER}/wnids.txt: it is not Tiny ImageNet's archive`);
  const temp = path.join(home, `.unpack-${process.pid}-${randomBytes(4).toString("hex")}`);
  const onProgress = options.onProgress ?? silentProgress;
  const stage = `unpack ${path.basename(abs)}`;
  try {
    names.forEach((name, i) => {
      const relative = path.normalize(name.slice(ARCHIVE_FOLDER.length + 1));
      if (relative.startsWith("..") || path.isAbsolute(relative)) throw new Error(`${abs}: entry ${name} points outside the archive's folder`);
      const file = path.join(temp, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, archive.read(name));
      if (i % 2000 === 0 || i === names.length - 1) onProgress({ stage, done: i + 1, total: names.length, unit: "files" });
    });
    fs.renameSync(temp, done);
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    // Another process unpacked the same archive first: its folder serves.
    if (fs.existsSync(path.join(done, "wnids.txt"))) return done;
    throw err;
  }
  return done;
}

const WNID = /^n\d{8}$/;
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The layout read and checked: classes, the training list and the annotated validation list. `root` may be the published zip. */
export function scanTinyImageNet(root: string, options: TinyImageNetZipOptions = {}): ImageNetTree {
  const abs = root.toLowerCase().endsWith(".zip") ? unpackTinyImageNet(root, options) : path.resolve(root);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new Error(`Tiny ImageNet folder ${abs} does not exist`);
  const wnidsFile = path.join(abs, "wnids.txt");
  if (!fs.existsSync(wnidsFile)) throw new Error(`${abs} has no wnids.txt: it is not Tiny ImageNet's layout (wnids.txt, train/<wnid>/images/, val/images/ with val/val_annotations.txt); unzip tiny-imagenet-200.zip and give its tiny-imagenet-200 folder`);
  const wnids = fs.readFileSync(wnidsFile, "utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  wnids.forEach((w, i) => {
    if (!WNID.test(w)) throw new Error(`${wnidsFile} line ${i + 1}: '${w.slice(0, 40)}' is not a wnid (n followed by 8 digits)`);
  });
  const duplicate = wnids.find((w, i) => wnids.indexOf(w) !== i);
  if (duplicate !== undefined) throw new Error(`${wnidsFile} lists ${duplicate} twice`);
  const classes = [...wnids].sort(byCodePoint);
  const known = new Set(classes);

  const trainDir = path.join(abs, "train");
  if (!fs.existsSync(trainDir)) throw new Error(`${abs} has no train/ folder`);
  const folders = subfolders(trainDir);
  const stray = folders.find((f) => !known.has(f));
  if (stray !== undefined) throw new Error(`${trainDir} has a folder ${stray} that ${wnidsFile} does not list`);
  const absent = classes.find((w) => !folders.includes(w));
  if (absent !== undefined) throw new Error(`${trainDir} has no folder for ${absent}, which ${wnidsFile} lists`);
  const train = fromClassFolders(trainDir, classes);
  const empty = classes.findIndex((_, c) => !train.labels.includes(c));
  if (empty >= 0) throw new Error(`${path.join(trainDir, classes[empty])} holds no image`);

  const splits: ImageNetTree["splits"] = { train };
  const valDir = path.join(abs, "val");
  if (fs.existsSync(valDir)) splits.val = annotatedValidation(valDir, classes);
  return { root: abs, classes, splits };
}

/** val/images labelled by val/val_annotations.txt; an unlabelled image or an annotation without its image is refused. */
function annotatedValidation(valDir: string, classes: string[]): ImageList {
  const annotations = path.join(valDir, "val_annotations.txt");
  if (!fs.existsSync(annotations)) throw new Error(`${valDir} has no val_annotations.txt, which labels its images; restore it from tiny-imagenet-200.zip`);
  const known = new Set(classes);
  const wnidOf = new Map<string, string>();
  fs.readFileSync(annotations, "utf8").split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const [file, wnid] = line.split("\t");
    if (file === undefined || wnid === undefined || !WNID.test(wnid.trim())) throw new Error(`${annotations} line ${i + 1}: expected 'file<TAB>wnid<TAB>box', got '${line.slice(0, 80)}'`);
    if (!known.has(wnid.trim())) throw new Error(`${annotations} line ${i + 1} labels ${file} as ${wnid.trim()}, which wnids.txt does not list`);
    wnidOf.set(file.trim(), wnid.trim());
  });
  const images = path.join(valDir, "images");
  if (!fs.existsSync(images)) throw new Error(`${valDir} has no images/ folder`);
  const list = labelFlatFolder(images, classes, annotations, (_id, file) => {
    const wnid = wnidOf.get(path.basename(file));
    if (wnid === undefined) throw new Error(`${file} has no line in ${annotations}`);
    return { wnid, said: `${annotations} labels ${path.basename(file)} as ${wnid}` };
  });
  const listed = new Set(list.files.map((f) => path.basename(f)));
  const missing = [...wnidOf.keys()].find((f) => !listed.has(f));
  if (missing !== undefined) throw new Error(`${annotations} lists ${missing}, which is not in ${images}`);
  return list;
}
